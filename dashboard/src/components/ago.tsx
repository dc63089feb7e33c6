import { ago, timestamp } from "../model/format.js";
import { useNow } from "./now.js";

/** "12 s ago", kept current, with the exact time on hover. */
export function Ago({ time }: { time: Date | undefined }) {
  const now = useNow();
  if (time === undefined) return <span class="muted">—</span>;
  return (
    <time dateTime={time.toISOString()} title={timestamp(time)}>
      {ago(time, now)}
    </time>
  );
}
