import { useState } from "preact/hooks";
import { setToken } from "../api/token.js";

/**
 * Asked when the control plane runs with --token: nothing is shown until
 * the person gives it, and every call carries it from then on.
 */
export function Login({ wrong }: { wrong: boolean }) {
  const [value, setValue] = useState("");
  return (
    <div class="login">
      <form
        class="login-card"
        onSubmit={(e) => {
          e.preventDefault();
          if (value.trim()) setToken(value.trim());
        }}
      >
        <h1>
          <span class="logo" aria-hidden="true">
            fw
          </span>{" "}
          fastworker
        </h1>
        <p>This control plane requires a token. Use the value it was started with (<code>--token</code> or <code>FW_TOKEN</code>).</p>
        {wrong && (
          <p class="error-text" role="alert">
            That token was refused. Check it and try again.
          </p>
        )}
        <label>
          <span>Token</span>
          <input type="password" name="token" autoComplete="current-password" autoFocus value={value} onInput={(e) => setValue(e.currentTarget.value)} />
        </label>
        <button type="submit" class="button button-primary" disabled={!value.trim()}>
          Open the dashboard
        </button>
        <p class="muted small">The token stays in this browser tab (sessionStorage) until you close it.</p>
      </form>
    </div>
  );
}
