//! Detail calls: the calls an extractor makes about one listed resource
//! at a time (its attributes, its tags), because the API has no batch form.
//! Made one after another they cost a scope one round trip per resource;
//! [`in_order`] keeps several in flight and still hands the answers over in
//! the order of the list, so the rows a scope writes do not depend on
//! timing.

use std::future::Future;

use futures::stream::{self, BoxStream, StreamExt};

/// `fetch` for every item, with at most `limit` (at least 1) unfinished at
/// once; the results in the order of `items`. Dropping the stream (after
/// an error, say) cancels the calls still in flight.
///
/// The stream is boxed: that keeps the closure's type out of the caller's
/// future, whose `Send` the compiler cannot always prove with the closure
/// in it.
pub fn in_order<'a, I, F, Fut>(items: I, limit: usize, fetch: F) -> BoxStream<'a, Fut::Output>
where
    I: IntoIterator + 'a,
    I::IntoIter: Send + 'a,
    F: FnMut(I::Item) -> Fut + Send + 'a,
    Fut: Future + Send + 'a,
    Fut::Output: Send + 'a,
{
    stream::iter(items)
        .map(fetch)
        .buffered(limit.max(1))
        .boxed()
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn answers_come_in_list_order_with_at_most_limit_in_flight() {
        let in_flight = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        let out: Vec<u64> = in_order(0..40u64, 4, |i| {
            let (in_flight, most) = (&in_flight, &most);
            async move {
                let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                // Later items finish first.
                tokio::time::sleep(Duration::from_millis(40 - i)).await;
                in_flight.fetch_sub(1, Ordering::SeqCst);
                i * 10
            }
        })
        .collect()
        .await;
        assert_eq!(out, (0..40).map(|i| i * 10).collect::<Vec<_>>());
        assert_eq!(most.load(Ordering::SeqCst), 4);
    }
}
