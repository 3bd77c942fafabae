-- Failed logins are counted in the server's memory per (username, address) and per address
-- (staff::throttle); a row per made-up username is no longer written.
DROP TABLE login_failures;
