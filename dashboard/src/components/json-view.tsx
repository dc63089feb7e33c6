import type { JsonValue } from "@bufbuild/protobuf";

const LIMIT = 100_000;

/** A JSON value, pretty-printed; very large values are cut with a note. */
export function JsonView({ value, label }: { value: JsonValue | undefined; label: string }) {
  if (value === undefined) return <p class="muted">none</p>;
  const text = JSON.stringify(value, null, 2);
  const cut = text.length > LIMIT;
  return (
    <>
      <pre class="code" aria-label={label}>
        {cut ? text.slice(0, LIMIT) : text}
      </pre>
      {cut && <p class="muted">Showing the first {LIMIT.toLocaleString()} of {text.length.toLocaleString()} characters.</p>}
    </>
  );
}
