pub mod api;
pub mod health;
pub mod search;
