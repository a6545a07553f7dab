//! Lambda: functions (`function`).

mod function;

pub(crate) use function::extract;
