//! SQS: queues (`queue`).

mod queue;

pub(crate) use queue::extract;
