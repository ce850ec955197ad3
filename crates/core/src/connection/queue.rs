//! The queue of commands from the client handles to the connection task: bounded (callers
//! wait for room, in order), and allocating nothing until something is queued, so an idle
//! connection does not pay for it.

use std::{
    collections::VecDeque,
    sync::{
        Mutex, MutexGuard, PoisonError,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    task::{Context, Poll},
};

use futures_util::task::AtomicWaker;
use tokio::sync::Semaphore;

use super::command::Command;

/// Commands waiting for the connection task.
#[derive(Debug)]
pub(crate) struct CommandQueue {
    queue: Mutex<VecDeque<Command>>,
    /// How many commands are queued: the task checks it without taking the lock.
    queued: AtomicUsize,
    /// One permit per free place; closed once the task has ended.
    room: Semaphore,
    task: AtomicWaker,
    /// Set when the last client handle is gone: nothing more will be queued.
    senders_gone: AtomicBool,
}

impl CommandQueue {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            queue: Mutex::default(),
            queued: AtomicUsize::new(0),
            room: Semaphore::new(capacity),
            task: AtomicWaker::new(),
            senders_gone: AtomicBool::new(false),
        }
    }

    fn lock(&self) -> MutexGuard<'_, VecDeque<Command>> {
        // Nothing panics while holding the lock; recover the queue if something ever does.
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `command` once there is room (callers are served in order), or hands it back
    /// when the task has ended. Then `handled` runs (the caller may take the command to the
    /// socket itself); unless it says it did, the task is woken to take it. Cancel safe: a
    /// command is queued only when the future completes.
    pub(crate) async fn send(
        &self,
        command: Command,
        handled: impl FnOnce() -> bool,
    ) -> Result<(), Command> {
        let Ok(permit) = self.room.acquire().await else { return Err(command) };
        // The place is handed back when the task takes the command.
        permit.forget();
        self.lock().push_back(command);
        self.queued.fetch_add(1, Ordering::Release);
        if !handled() {
            self.task.wake();
        }
        Ok(())
    }

    /// The next command; `Ready(None)` once every handle is gone and the queue is empty.
    pub(crate) fn poll_recv(&self, cx: &mut Context<'_>) -> Poll<Option<Command>> {
        if let Some(command) = self.take() {
            return Poll::Ready(Some(command));
        }
        self.task.register(cx.waker());
        match self.take() {
            Some(command) => Poll::Ready(Some(command)),
            None if self.senders_gone.load(Ordering::Acquire) => Poll::Ready(None),
            None => Poll::Pending,
        }
    }

    /// The next command, waiting for one. Cancel safe.
    pub(crate) async fn recv(&self) -> Option<Command> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    fn take(&self) -> Option<Command> {
        if self.queued.load(Ordering::Acquire) == 0 {
            return None;
        }
        let command = self.lock().pop_front()?;
        self.queued.fetch_sub(1, Ordering::AcqRel);
        self.room.add_permits(1);
        Some(command)
    }

    /// Refuses every later `send` and hands back what is queued (the task has ended).
    pub(crate) fn close(&self) -> Vec<Command> {
        self.room.close();
        self.lock().drain(..).collect()
    }

    /// The last client handle is gone.
    pub(crate) fn senders_gone(&self) {
        self.senders_gone.store(true, Ordering::Release);
        self.task.wake();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use tokio::sync::oneshot;

    use super::*;
    use crate::message::Message;

    fn send(text: &str) -> Command {
        let (ack, _) = oneshot::channel();
        Command::Send { message: Message::from(text), ack }
    }

    fn text(command: Option<Command>) -> String {
        match command {
            Some(Command::Send { message, .. }) => message.as_text().unwrap_or_default().to_owned(),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn commands_come_out_in_order_and_callers_wait_for_room() {
        let queue = Arc::new(CommandQueue::new(1));
        queue.send(send("one"), || false).await.unwrap();
        let waiting = tokio::spawn({
            let queue = Arc::clone(&queue);
            async move { queue.send(send("two"), || false).await.is_ok() }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "no room for a second command");
        assert_eq!(text(queue.recv().await), "one");
        assert!(waiting.await.unwrap());
        assert_eq!(text(queue.recv().await), "two");
        queue.senders_gone();
        assert!(queue.recv().await.is_none(), "every handle gone, nothing left");
    }

    #[tokio::test]
    async fn the_task_is_woken_for_a_command_unless_its_caller_handled_it() {
        let queue = CommandQueue::new(4);
        let (woken, waker) = crate::wake_count::WakeCount::new();
        let mut cx = Context::from_waker(&waker);
        assert!(queue.poll_recv(&mut cx).is_pending(), "the task waits for commands");
        queue.send(send("written by its caller"), || true).await.unwrap();
        assert_eq!(woken.get(), 0, "handled: the task sleeps on");
        queue.send(send("for the task"), || false).await.unwrap();
        assert_eq!(woken.get(), 1, "not handled: the task is woken");
    }

    #[tokio::test]
    async fn a_closed_queue_refuses_and_hands_back_what_it_held() {
        let queue = CommandQueue::new(4);
        queue.send(send("held"), || false).await.unwrap();
        let held = queue.close();
        assert_eq!(held.len(), 1);
        assert!(queue.send(send("late"), || false).await.is_err());
    }
}
