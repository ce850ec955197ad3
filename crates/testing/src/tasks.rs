//! The tasks a server spawns for its connections, so that stopping or dropping it ends them.

use std::{future::Future, sync::Mutex};

use tokio::task::JoinSet;

use crate::state::lock;

/// A server's connection tasks.
#[derive(Debug, Default)]
pub(crate) struct Tasks(Mutex<JoinSet<()>>);

impl Tasks {
    /// Runs `task` in the set, forgetting the ones that already finished.
    pub(crate) fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        let mut tasks = lock(&self.0);
        while tasks.try_join_next().is_some() {}
        tasks.spawn(task);
    }

    /// Takes every task out of the set (to shut them down and wait).
    pub(crate) fn take(&self) -> JoinSet<()> {
        std::mem::take(&mut *lock(&self.0))
    }

    /// Aborts every task without waiting.
    pub(crate) fn abort(&self) {
        lock(&self.0).abort_all();
    }
}
