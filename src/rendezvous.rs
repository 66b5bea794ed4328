//! Meeting by id within 5 seconds: one side delivers a value under an id (a broker announcement,
//! an incoming stream), the other waits for it. A value nobody claims is dropped after 5 s; a
//! wait gives up after 5 s (go-plugin's brokers, PROTOCOL.md §4.6 and §5.5).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::time::Instant;

use crate::lock::lock;

/// How long a delivered value waits for its taker, and a taker for its value.
pub const RENDEZVOUS: Duration = Duration::from_secs(5);

/// The most delivered values kept unclaimed at once; beyond it the oldest is dropped.
pub const MAX_UNCLAIMED: usize = 1024;

/// Values meeting their takers by id.
///
/// The other side controls what is delivered, so nothing here grows with it: unclaimed values
/// are at most [`MAX_UNCLAIMED`], a second value under the same id replaces the first, and expiry
/// needs no timer task (values older than [`RENDEZVOUS`] are dropped whenever another arrives or is
/// taken).
#[derive(Debug)]
pub struct Rendezvous<T> {
    slots: Mutex<Slots<T>>,
}

#[derive(Debug)]
struct Slots<T> {
    by_id: HashMap<u32, Slot<T>>,
    /// Arrivals, oldest first: (when, id, generation). Entries whose slot was since taken or
    /// replaced are skipped when they reach the front.
    arrivals: VecDeque<(Instant, u32, u64)>,
    generation: u64,
}

#[derive(Debug)]
enum Slot<T> {
    Arrived(T, u64),
    Waiting(oneshot::Sender<T>),
}

impl<T> Default for Rendezvous<T> {
    fn default() -> Self {
        Rendezvous {
            slots: Mutex::new(Slots {
                by_id: HashMap::new(),
                arrivals: VecDeque::new(),
                generation: 0,
            }),
        }
    }
}

impl<T> Slots<T> {
    /// Drops arrived values older than [`RENDEZVOUS`], and the oldest beyond [`MAX_UNCLAIMED`].
    fn expire(&mut self, now: Instant) {
        while let Some(&(when, id, generation)) = self.arrivals.front() {
            let current =
                matches!(self.by_id.get(&id), Some(Slot::Arrived(_, g)) if *g == generation);
            if !current {
                self.arrivals.pop_front();
                continue;
            }
            let expired = now.duration_since(when) >= RENDEZVOUS;
            if !expired && self.arrivals.len() <= MAX_UNCLAIMED {
                return;
            }
            if !expired {
                tracing::warn!(target: "go_plugin", id, limit = MAX_UNCLAIMED, "too many unclaimed broker announcements; the oldest is dropped");
            }
            self.arrivals.pop_front();
            self.by_id.remove(&id);
        }
    }
}

impl<T: Send + 'static> Rendezvous<T> {
    /// Hands `value` to whoever waits for `id`, or keeps it for 5 s (replacing an earlier value
    /// under the same id).
    pub fn deliver(&self, id: u32, value: T) {
        let mut slots = lock(&self.slots);
        let now = Instant::now();
        slots.expire(now);
        let value = match slots.by_id.remove(&id) {
            Some(Slot::Waiting(tx)) => match tx.send(value) {
                Ok(()) => return,
                Err(value) => value,
            },
            _ => value,
        };
        slots.generation += 1;
        let generation = slots.generation;
        slots.by_id.insert(id, Slot::Arrived(value, generation));
        slots.arrivals.push_back((now, id, generation));
        slots.expire(now);
    }

    /// The value delivered under `id`, waiting up to 5 s; `None` on timeout.
    pub async fn take(&self, id: u32) -> Option<T> {
        let rx = {
            let mut slots = lock(&self.slots);
            slots.expire(Instant::now());
            if let Some(Slot::Arrived(..)) = slots.by_id.get(&id) {
                if let Some(Slot::Arrived(value, _)) = slots.by_id.remove(&id) {
                    return Some(value);
                }
            }
            let (tx, rx) = oneshot::channel();
            slots.by_id.insert(id, Slot::Waiting(tx));
            rx
        };
        match tokio::time::timeout(RENDEZVOUS, rx).await {
            Ok(Ok(value)) => Some(value),
            _ => {
                let mut slots = lock(&self.slots);
                if matches!(slots.by_id.get(&id), Some(Slot::Waiting(tx)) if tx.is_closed()) {
                    slots.by_id.remove(&id);
                }
                None
            }
        }
    }

    /// How many values wait unclaimed (for tests and diagnostics).
    #[cfg(test)]
    fn unclaimed(&self) -> usize {
        let slots = lock(&self.slots);
        slots
            .by_id
            .values()
            .filter(|s| matches!(s, Slot::Arrived(..)))
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_value_reaches_a_waiting_taker_and_one_that_comes_later() {
        let meet = std::sync::Arc::new(Rendezvous::default());
        let waiting = {
            let meet = meet.clone();
            tokio::spawn(async move { meet.take(1).await })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        meet.deliver(1, "a");
        assert_eq!(waiting.await.unwrap(), Some("a"));
        meet.deliver(2, "b");
        assert_eq!(meet.take(2).await, Some("b"));
    }

    #[tokio::test(start_paused = true)]
    async fn unclaimed_values_expire_and_takers_give_up_after_5_s() {
        let meet = Rendezvous::default();
        meet.deliver(7, "late");
        tokio::time::sleep(Duration::from_secs(6)).await;
        assert_eq!(meet.take(7).await, None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_flood_of_announcements_keeps_at_most_the_bound_and_replaces_duplicates() {
        let meet = Rendezvous::default();
        for id in 0..(MAX_UNCLAIMED as u32 * 4) {
            meet.deliver(id, id);
        }
        assert_eq!(meet.unclaimed(), MAX_UNCLAIMED);
        // The newest are kept.
        let newest = MAX_UNCLAIMED as u32 * 4 - 1;
        assert_eq!(meet.take(newest).await, Some(newest));
        for _ in 0..10 {
            meet.deliver(1, 1);
        }
        meet.deliver(1, 2);
        assert_eq!(meet.take(1).await, Some(2));
        // No timer task per value: everything left expires by age alone.
        tokio::time::sleep(RENDEZVOUS).await;
        meet.deliver(9, 9);
        assert_eq!(meet.unclaimed(), 1);
    }
}
