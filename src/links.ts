import type {JobRef} from './inputs.ts';

/** The Cloud Console page of one execution. */
export function consoleUrl(job: Required<JobRef>, executionId: string): string {
  return `https://console.cloud.google.com/run/jobs/executions/details/${job.region}/${executionId}?project=${job.project}`;
}

/** The filter that selects one execution's log entries, the platform's own lines included. */
export function executionLogFilter(job: Required<JobRef>, executionId: string): string {
  return [
    'resource.type="cloud_run_job"',
    `resource.labels.job_name="${job.name}"`,
    `resource.labels.location="${job.region}"`,
    `labels."run.googleapis.com/execution_name"="${executionId}"`,
  ].join('\n');
}

/** The Logs Explorer page for one execution, for when the API gives no log_uri. */
export function logsUrl(job: Required<JobRef>, executionId: string): string {
  const filter = encodeURIComponent(executionLogFilter(job, executionId));
  return `https://console.cloud.google.com/logs/viewer?project=${job.project}&advancedFilter=${filter}`;
}
