import { useEffect } from "preact/hooks";
import { setToken, token } from "./api/token.js";
import { ConnectionBanner, ConnectionPill, RestartNotice } from "./components/connection-banner.js";
import { Toasts } from "./components/toasts.js";
import { connection, controlPlane } from "./live/connection.js";
import { forgetLive, liveStats, startLive } from "./live/live.js";
import { count } from "./model/format.js";
import { href, route, type Route } from "./model/route.js";
import { useStore } from "./model/store.js";
import { Login } from "./views/login.js";
import { Overview } from "./views/overview.js";
import { Tasks } from "./views/tasks.js";
import { Workers } from "./views/workers.js";
import { Schedules } from "./views/schedules.js";

const TITLES: Record<Route["view"], string> = { overview: "Overview", workers: "Workers", tasks: "Tasks", schedules: "Schedules" };

/** The page: header with navigation and the live indicator, one view, toasts; or the token form. */
export function App() {
  const currentToken = useStore(token);
  const state = useStore(connection);
  const { view } = useStore(route);
  const { restarts } = useStore(controlPlane);

  // (Re)open the live streams on load and whenever the token changes.
  useEffect(() => startLive(), [currentToken]);
  useEffect(() => {
    document.title = `${TITLES[view]} · fastworker`;
  }, [view]);

  if (state.kind === "unauthenticated") return <Login wrong={state.hadToken} checking={state.checking === true} />;
  // The views subscribe to what they show themselves: the stats arriving every
  // second re-render the header, not the whole page. A control plane that
  // restarted may have forgotten what the views hold: they start afresh (key).
  return (
    <>
      <TopBar view={view} />
      <ConnectionBanner />
      <RestartNotice />
      <main class="content" key={restarts}>
        <h1 class="visually-hidden">{TITLES[view]}</h1>
        {view === "workers" ? <Workers /> : view === "tasks" ? <Tasks /> : view === "schedules" ? <Schedules /> : <Overview />}
      </main>
      <Toasts />
    </>
  );
}

function TopBar({ view }: { view: Route["view"] }) {
  const { stats, workers } = useStore(liveStats);
  const signedIn = useStore(token) !== "";
  const tabs = [
    { view: "overview" as const, label: "Overview" },
    { view: "workers" as const, label: "Workers", badge: workers.filter((w) => w.state !== "lost").length, hint: "connected" },
    {
      view: "tasks" as const,
      label: "Tasks",
      badge: stats && stats.running + stats.queued.critical + stats.queued.high + stats.queued.normal + stats.queued.low,
      hint: "queued or running",
    },
    { view: "schedules" as const, label: "Schedules" },
  ];
  return (
    <header class="topbar">
      <a class="brand" href="#/overview">
        <span class="logo" aria-hidden="true">
          fw
        </span>
        <span class="brand-name">fastworker</span>
      </a>
      <nav class="tabs" aria-label="Views">
        {tabs.map((t) => (
          <a key={t.view} href={href(t.view)} class={view === t.view ? "tab tab-active" : "tab"} aria-current={view === t.view ? "page" : undefined}>
            {t.label}
            {t.badge !== undefined && t.badge > 0 && (
              <span class="tab-badge">
                {count(t.badge)}
                <span class="visually-hidden"> {t.hint}</span>
              </span>
            )}
          </a>
        ))}
      </nav>
      <span class="spacer" />
      {stats && <span class="muted small version">v{stats.version}</span>}
      <ConnectionPill />
      {signedIn && (
        <button
          type="button"
          class="button button-small"
          title="Forget the token in this browser"
          onClick={() => {
            forgetLive();
            setToken("");
          }}
        >
          Sign out
        </button>
      )}
    </header>
  );
}
