//! End-to-end tests that cross crate boundaries live in `tests/tests/`: they drive the system only
//! through its public interfaces (GraphQL over HTTP, SQL as a BI login, the store's API), the way
//! a county's users and tools do. Each crate's own behaviour is tested in that crate.
