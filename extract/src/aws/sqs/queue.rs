//! `aws_sqs_queue`: `ListQueues`, then per queue `GetQueueAttributes(All)`
//! and `ListQueueTags` (SQS has no batch call for either).

use std::collections::HashMap;

use aws_sdk_sqs::types::QueueAttributeName;
use cloudtab_schema::Value;

use crate::aws::clients::{api_failure, error_code};
use crate::aws::convert::{epoch_seconds_text, json_text, map_tags, text};
use crate::aws::{Failure, Writer};
use crate::writer::Row;

pub(crate) async fn extract(c: &aws_sdk_sqs::Client, w: &mut Writer<'_>) -> Result<(), Failure> {
    pages!(
        "sqs:ListQueues",
        c.list_queues().max_results(1000).into_paginator().send(),
        |page| {
            w.detailed(
                page.queue_urls(),
                |url| details(c, url),
                |w, (url, attrs, tags)| Some(row(w, url, &attrs, tags)),
            )
            .await?;
        }
    );
    Ok(())
}

/// A queue's attributes and tags; `None` when it was deleted since it was
/// listed.
async fn details<'a>(
    c: &aws_sdk_sqs::Client,
    url: &'a str,
) -> Result<Option<(&'a str, Attributes, HashMap<String, String>)>, Failure> {
    let attrs = match c
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::All)
        .send()
        .await
    {
        Ok(o) => o.attributes().cloned().unwrap_or_default(),
        Err(e) if is_gone(error_code(&e)) => return Ok(None),
        Err(e) => return Err(api_failure("sqs:GetQueueAttributes", &e)),
    };
    let tags = match c.list_queue_tags().queue_url(url).send().await {
        Ok(o) => o.tags().cloned().unwrap_or_default(),
        Err(e) if is_gone(error_code(&e)) => return Ok(None),
        Err(e) => return Err(api_failure("sqs:ListQueueTags", &e)),
    };
    Ok(Some((url, attrs, tags)))
}

type Attributes = HashMap<QueueAttributeName, String>;

fn is_gone(code: Option<&str>) -> bool {
    matches!(
        code,
        Some("AWS.SimpleQueueService.NonExistentQueue" | "QueueDoesNotExist")
    )
}

fn row(w: &Writer<'_>, url: &str, attrs: &Attributes, tags: HashMap<String, String>) -> Row {
    let get = |n: QueueAttributeName| attrs.get(&n).map(String::as_str);
    let int = |n: QueueAttributeName| {
        get(n).map_or(Value::Null, |v| match v.parse::<i64>() {
            Ok(i) => Value::Int(i),
            Err(_) => Value::Text(v.to_string()),
        })
    };
    let boolean = |n: QueueAttributeName| {
        get(n).map_or(Value::Null, |v| Value::Bool(v.eq_ignore_ascii_case("true")))
    };
    // The API documents both as epoch seconds, sent as text.
    let epoch = |n: QueueAttributeName| get(n).map_or(Value::Null, epoch_seconds_text);
    let name = url.rsplit('/').next().unwrap_or(url).to_string();
    let mut r = w.row("aws_sqs_queue", name.clone());
    r.name = Some(name);
    r.arn = get(QueueAttributeName::QueueArn).map(str::to_string);
    r.ctime = epoch(QueueAttributeName::CreatedTimestamp);
    r.mtime = epoch(QueueAttributeName::LastModifiedTimestamp);
    r.tags = map_tags(Some(&tags));
    use QueueAttributeName as Q;
    r.values = vec![
        ("url", Value::Text(url.to_string())),
        (
            "fifo_queue",
            get(Q::FifoQueue).map_or(Value::Bool(false), |v| Value::Bool(v == "true")),
        ),
        ("visibility_timeout_seconds", int(Q::VisibilityTimeout)),
        (
            "message_retention_period_seconds",
            int(Q::MessageRetentionPeriod),
        ),
        ("maximum_message_size_bytes", int(Q::MaximumMessageSize)),
        ("delay_seconds", int(Q::DelaySeconds)),
        (
            "receive_message_wait_time_seconds",
            int(Q::ReceiveMessageWaitTimeSeconds),
        ),
        (
            "approximate_number_of_messages",
            int(Q::ApproximateNumberOfMessages),
        ),
        (
            "approximate_number_of_messages_not_visible",
            int(Q::ApproximateNumberOfMessagesNotVisible),
        ),
        (
            "approximate_number_of_messages_delayed",
            int(Q::ApproximateNumberOfMessagesDelayed),
        ),
        (
            "content_based_deduplication",
            boolean(Q::ContentBasedDeduplication),
        ),
        ("kms_master_key_id", text(get(Q::KmsMasterKeyId))),
        ("sqs_managed_sse_enabled", boolean(Q::SqsManagedSseEnabled)),
        ("redrive_policy", json_text(get(Q::RedrivePolicy))),
        ("policy", json_text(get(Q::Policy))),
    ];
    r
}
