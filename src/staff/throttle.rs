//! The login slow-down. Failures are counted per (username, client address) and per client
//! address, in memory and under one lock, so a burst of concurrent guesses is counted as it
//! arrives (an attempt in flight counts until it ends), a guesser cannot lock the real user out
//! from another address, and spraying one password across many accounts is slowed per address.
//! Nothing is written per made-up username; the table is bounded and forgets quiet entries.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use crate::clock::Millis;

/// Failures allowed per username and address before its logins are slowed down.
const ACCOUNT_FREE: u32 = 5;
/// Failures allowed per address, across usernames, before its logins are slowed down.
const ADDRESS_FREE: u32 = 30;
/// A key with no failure for this long starts again from zero.
const FORGET_MS: Millis = 15 * 60 * 1000;
const MAX_ENTRIES: usize = 50_000;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    Account(String, IpAddr),
    Address(IpAddr),
}

#[derive(Clone, Copy, Debug, Default)]
struct Record {
    failures: u32,
    in_flight: u32,
    last_failure_ms: Millis,
}

impl Record {
    /// Seconds to wait before the next attempt may start, if any.
    fn wait_s(&self, free: u32, now: Millis) -> Option<i64> {
        if self.failures + self.in_flight < free {
            return None;
        }
        if self.in_flight > 0 {
            // The allowed attempts are still being checked.
            return Some(1);
        }
        let backoff_ms = (1_i64 << (self.failures - free).min(8)).min(300) * 1000;
        let until = self.last_failure_ms + backoff_ms;
        (now < until).then(|| (until - now + 999) / 1000)
    }
}

#[derive(Default)]
pub struct Throttle {
    entries: Mutex<HashMap<Key, Record>>,
}

/// A login attempt let through; say how it ended with [`Throttle::finish`].
#[must_use]
pub struct Attempt {
    account: Key,
    address: Key,
}

impl Throttle {
    /// Lets an attempt start, or says how many seconds the client must wait.
    pub fn begin(&self, username: &str, address: IpAddr, now: Millis) -> Result<Attempt, i64> {
        let account = Key::Account(username.to_lowercase(), address);
        let address = Key::Address(address);
        let mut entries = self.lock();
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, r| r.in_flight > 0 || now - r.last_failure_ms < FORGET_MS);
            if entries.len() >= MAX_ENTRIES {
                entries.retain(|_, r| r.in_flight > 0 || r.failures >= ACCOUNT_FREE);
            }
        }
        for key in [&account, &address] {
            if let Some(record) = entries.get_mut(key)
                && record.in_flight == 0
                && now - record.last_failure_ms >= FORGET_MS
            {
                *record = Record::default();
            }
        }
        let account_record = entries.get(&account).copied().unwrap_or_default();
        let mut address_record = entries.get(&address).copied().unwrap_or_default();
        if address_record.failures == 0 {
            // Concurrent logins from one address (a clinic behind one router) are not
            // suspicious in themselves; only failures make them count.
            address_record.in_flight = 0;
        }
        let wait = [
            account_record.wait_s(ACCOUNT_FREE, now),
            address_record.wait_s(ADDRESS_FREE, now),
        ]
        .into_iter()
        .flatten()
        .max();
        if let Some(wait_s) = wait {
            return Err(wait_s);
        }
        entries.entry(account.clone()).or_default().in_flight += 1;
        entries.entry(address.clone()).or_default().in_flight += 1;
        Ok(Attempt { account, address })
    }

    /// Ends an attempt: `Some(false)`, a wrong password, counts against the username and the
    /// address; `Some(true)` forgets the username's failures from that address; `None` (the
    /// password was never checked) only ends the attempt.
    pub fn finish(&self, attempt: Attempt, succeeded: Option<bool>, now: Millis) {
        let mut entries = self.lock();
        for key in [&attempt.address, &attempt.account] {
            if let Some(record) = entries.get_mut(key) {
                record.in_flight = record.in_flight.saturating_sub(1);
                if succeeded == Some(false) {
                    record.failures += 1;
                    record.last_failure_ms = now;
                }
            }
        }
        if succeeded == Some(true) {
            entries.remove(&attempt.account);
        }
        if let Some(record) = entries.get(&attempt.address)
            && record.failures == 0
            && record.in_flight == 0
        {
            entries.remove(&attempt.address);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Record>> {
        self.entries
            .lock()
            .expect("the login throttle lock is never poisoned")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn here() -> IpAddr {
        "10.0.0.1".parse().unwrap()
    }

    fn elsewhere() -> IpAddr {
        "10.0.0.2".parse().unwrap()
    }

    #[test]
    fn concurrent_guesses_are_counted_as_they_start() {
        let throttle = Throttle::default();
        let started: Vec<_> = (0..40)
            .filter_map(|_| throttle.begin("doctor", here(), 1000).ok())
            .collect();
        assert_eq!(started.len(), ACCOUNT_FREE as usize);
        for attempt in started {
            throttle.finish(attempt, Some(false), 1000);
        }
        assert_eq!(throttle.begin("doctor", here(), 1500).err(), Some(1));
        // The real user elsewhere is not locked out.
        let attempt = throttle.begin("doctor", elsewhere(), 1500).unwrap();
        throttle.finish(attempt, Some(true), 1500);
    }

    #[test]
    fn spraying_across_usernames_is_slowed_per_address() {
        let throttle = Throttle::default();
        for n in 0..ADDRESS_FREE {
            let attempt = throttle.begin(&format!("user{n}"), here(), 1000).unwrap();
            throttle.finish(attempt, Some(false), 1000);
        }
        assert!(throttle.begin("someone-else", here(), 1000).is_err());
        assert!(throttle.begin("someone-else", elsewhere(), 1000).is_ok());
    }
}
