import { Store } from "./store.js";

/** Where the page is: #/overview, #/workers, #/tasks?state=failed&open=<id>, #/schedules. */
export interface Route {
  view: "overview" | "workers" | "tasks" | "schedules";
  params: URLSearchParams;
}

function parse(hash: string): Route {
  const [path = "", query = ""] = hash.replace(/^#\/?/, "").split("?");
  const view = path === "workers" || path === "tasks" || path === "schedules" ? path : "overview";
  return { view, params: new URLSearchParams(query) };
}

/** The current route; follows the address bar (links, back and forward). */
export const route = new Store<Route>(parse(window.location.hash));
window.addEventListener("hashchange", () => route.set(parse(window.location.hash)));

/** The address for a view and its parameters. */
export function href(view: Route["view"], params?: URLSearchParams): string {
  const query = params?.toString();
  return `#/${view}${query ? `?${query}` : ""}`;
}

/** Goes to a view; `replace` changes the address without a new history entry (typing in a filter). */
export function navigate(view: Route["view"], params?: URLSearchParams, replace = false): void {
  const target = href(view, params);
  if (replace) {
    history.replaceState(null, "", target);
    route.set(parse(target));
  } else {
    window.location.hash = target;
  }
}
