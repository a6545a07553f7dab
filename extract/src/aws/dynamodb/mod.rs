//! DynamoDB: tables (`table`).

mod table;

pub(crate) use table::extract;
