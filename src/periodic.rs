//! Work a replica repeats on a timer: sweeping overdue pending logins, deleting old history,
//! refreshing CRLs, delivering back-channel logouts, the metrics' upkeep. One loop for all of
//! them, so each job is only what it does; a job logs its own failures and runs again next time.

use std::future::Future;
use std::time::Duration;

/// Runs `job` at once and then every `period`, for as long as the task that awaits this lives
/// (the application ends its background tasks when the server stops).
pub async fn every<Job, Run>(period: Duration, mut job: Job)
where
    Job: FnMut() -> Run,
    Run: Future<Output = ()>,
{
    let mut tick = tokio::time::interval(period);
    loop {
        tick.tick().await;
        job().await;
    }
}
