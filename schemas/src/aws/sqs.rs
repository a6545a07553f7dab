//! SQS queues.

use crate::column::{ColumnDef as C, ColumnType::*};
use crate::table::TableDef;

pub(crate) fn tables() -> Vec<TableDef> {
    vec![
        TableDef::resource(
            "aws_sqs_queue",
            "sqs",
            "An SQS queue with all its attributes. `ctime` and `mtime` come from `CreatedTimestamp` and `LastModifiedTimestamp` (epoch seconds in the API).",
            &["sqs:ListQueues", "sqs:GetQueueAttributes", "sqs:ListQueueTags"],
            &[
                C::new("url", Text, "Queue URL.").unique(),
                C::new("fifo_queue", Boolean, "Whether the queue is FIFO."),
                C::new("visibility_timeout_seconds", Int64, "Visibility timeout in seconds."),
                C::new("message_retention_period_seconds", Int64, "Message retention in seconds."),
                C::new("maximum_message_size_bytes", Int64, "Largest message in bytes."),
                C::new("delay_seconds", Int64, "Delivery delay in seconds."),
                C::new("receive_message_wait_time_seconds", Int64, "Long-poll wait in seconds."),
                C::new("approximate_number_of_messages", Int64, "Messages available."),
                C::new("approximate_number_of_messages_not_visible", Int64, "Messages in flight."),
                C::new("approximate_number_of_messages_delayed", Int64, "Messages delayed."),
                C::new("content_based_deduplication", Boolean, "FIFO content-based deduplication."),
                C::new("kms_master_key_id", Text, "KMS key for server-side encryption."),
                C::new("sqs_managed_sse_enabled", Boolean, "Whether SQS-managed encryption is on."),
                C::new("redrive_policy", Json, "Dead-letter queue policy."),
                C::new("policy", Json, "Access policy."),
            ],
        ),
    ]
}
