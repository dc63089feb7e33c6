/**
 * How much one message of the long-lived streams may carry, in items. The
 * control plane refuses a message past these (RESOURCE_EXHAUSTED, ending the
 * stream): one message must not create millions of tasks or hold the event
 * loop for seconds. The client library and the worker cut their messages to
 * fit. Bytes are bounded by the control plane's receive limit (16 MiB, or 4
 * × --max-payload when larger); senders cut at 4 MiB (split-by-bytes.ts).
 */

/** Submissions in one Session message (a SubmitBatch call takes as many). */
export const MAX_SESSION_SUBMITS = 10_000;

/** Task ids to follow in one Session message. */
export const MAX_SESSION_FOLLOWS = 10_000;

/** Items in one ReportResults message: acknowledgements, results, progress updates and hand-backs together. */
export const MAX_REPORT_ITEMS = 10_000;
