//! Events leaving the process: [`relay`] carries committed changes between instances that
//! share one PostgreSQL database, so they behave as one server.

pub mod bus;
pub mod relay;
