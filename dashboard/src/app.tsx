import { useEffect } from "preact/hooks";
import { token } from "./api/token.js";
import { ConnectionBanner, ConnectionPill } from "./components/connection-banner.js";
import { Toasts } from "./components/toasts.js";
import { connection } from "./live/connection.js";
import { liveStats, startLive } from "./live/live.js";
import { count } from "./model/format.js";
import { href, route, type Route } from "./model/route.js";
import { useStore } from "./model/store.js";
import { Login } from "./views/login.js";
import { Overview } from "./views/overview.js";
import { Tasks } from "./views/tasks.js";
import { Workers } from "./views/workers.js";

/** The page: header with navigation and the live indicator, one view, toasts; or the token form. */
export function App() {
  const currentToken = useStore(token);
  const state = useStore(connection);
  const { view } = useStore(route);

  // (Re)open the live streams on load and whenever the token changes.
  useEffect(() => startLive(), [currentToken]);

  if (state.kind === "unauthenticated") return <Login wrong={state.hadToken} />;
  // The views subscribe to what they show themselves: the stats arriving every
  // second re-render the header, not the whole page.
  return (
    <>
      <TopBar view={view} />
      <ConnectionBanner />
      <main class="content">{view === "workers" ? <Workers /> : view === "tasks" ? <Tasks /> : <Overview />}</main>
      <Toasts />
    </>
  );
}

function TopBar({ view }: { view: Route["view"] }) {
  const { stats, workers } = useStore(liveStats);
  const tabs = [
    { view: "overview" as const, label: "Overview" },
    { view: "workers" as const, label: "Workers", badge: workers.filter((w) => w.state !== "lost").length, hint: "workers connected" },
    {
      view: "tasks" as const,
      label: "Tasks",
      badge: stats && stats.running + stats.queued.critical + stats.queued.high + stats.queued.normal + stats.queued.low,
      hint: "tasks queued or running",
    },
  ];
  return (
    <header class="topbar">
      <a class="brand" href="#/overview">
        <span class="logo" aria-hidden="true">
          fw
        </span>
        fastworker
      </a>
      <nav class="tabs" aria-label="Views">
        {tabs.map((t) => (
          <a key={t.view} href={href(t.view)} class={view === t.view ? "tab tab-active" : "tab"} aria-current={view === t.view ? "page" : undefined}>
            {t.label}
            {t.badge !== undefined && t.badge > 0 && (
              <span class="tab-badge" title={t.hint}>
                {count(t.badge)}
              </span>
            )}
          </a>
        ))}
      </nav>
      <span class="spacer" />
      {stats && <span class="muted small">v{stats.version}</span>}
      <ConnectionPill />
    </header>
  );
}
