// The request a piece of asynchronous work belongs to, for the gateway's last-resort error handler: the listener
// opens a scope per connection request and the pipeline names it once the request has an id. Only the id is kept
// (never headers or tokens), so a crash report can say which request's code failed.
import { AsyncLocalStorage } from "node:async_hooks";

export interface RequestScope {
  requestId?: string;
}

export const requestScope = new AsyncLocalStorage<RequestScope>();

/** The id of the request whose code is running now, when known. */
export function currentRequestId(): string | undefined {
  return requestScope.getStore()?.requestId;
}
