//! Meeting by id within 5 seconds: one side delivers a value under an id (a broker announcement,
//! an incoming stream), the other waits for it. A value nobody claims is dropped after 5 s; a
//! wait gives up after 5 s (go-plugin's brokers, PROTOCOL.md §4.6 and §5.5).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::oneshot;

/// How long a delivered value waits for its taker, and a taker for its value.
pub const RENDEZVOUS: Duration = Duration::from_secs(5);

/// Values meeting their takers by id.
#[derive(Debug)]
pub struct Rendezvous<T> {
    slots: Arc<Mutex<HashMap<u32, Slot<T>>>>,
    generation: AtomicU64,
}

#[derive(Debug)]
enum Slot<T> {
    Arrived(T, u64),
    Waiting(oneshot::Sender<T>),
}

impl<T> Default for Rendezvous<T> {
    fn default() -> Self {
        Rendezvous {
            slots: Arc::default(),
            generation: AtomicU64::new(0),
        }
    }
}

impl<T: Send + 'static> Rendezvous<T> {
    /// Hands `value` to whoever waits for `id`, or keeps it for 5 s.
    pub fn deliver(&self, id: u32, value: T) {
        let mut slots = lock(&self.slots);
        let value = match slots.remove(&id) {
            Some(Slot::Waiting(tx)) => match tx.send(value) {
                Ok(()) => return,
                Err(value) => value,
            },
            _ => value,
        };
        let generation = self.generation.fetch_add(1, Ordering::Relaxed);
        slots.insert(id, Slot::Arrived(value, generation));
        let slots = Arc::downgrade(&self.slots);
        tokio::spawn(async move {
            tokio::time::sleep(RENDEZVOUS).await;
            if let Some(slots) = slots.upgrade() {
                let mut slots = lock(&slots);
                if matches!(slots.get(&id), Some(Slot::Arrived(_, g)) if *g == generation) {
                    slots.remove(&id);
                }
            }
        });
    }

    /// The value delivered under `id`, waiting up to 5 s; `None` on timeout.
    pub async fn take(&self, id: u32) -> Option<T> {
        let rx = {
            let mut slots = lock(&self.slots);
            if let Some(Slot::Arrived(..)) = slots.get(&id) {
                if let Some(Slot::Arrived(value, _)) = slots.remove(&id) {
                    return Some(value);
                }
            }
            let (tx, rx) = oneshot::channel();
            slots.insert(id, Slot::Waiting(tx));
            rx
        };
        match tokio::time::timeout(RENDEZVOUS, rx).await {
            Ok(Ok(value)) => Some(value),
            _ => {
                lock(&self.slots).remove(&id);
                None
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_value_reaches_a_waiting_taker_and_one_that_comes_later() {
        let meet = Arc::new(Rendezvous::default());
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
}
