//! Chronic disease management (慢病管理) of the national basic public health service:
//! hypertension and type 2 diabetes. So far the follow-up decision by the national rules
//! (rules.rs); the registry, follow-ups, call lists and measures build on it.

pub mod rules;
