import { useEffect, useRef, useState } from "preact/hooks";
import { setToken, token } from "../api/token.js";

/**
 * Asked when the control plane runs with --token: nothing is shown until
 * the person gives it, and every call carries it from then on. The form
 * stays while a typed token is checked; a refused one keeps the field, its
 * text and the focus, and says why. The address (view, filters, an open
 * task) is left alone, so a shared link opens where it points after sign-in.
 */
export function Login({ wrong, checking }: { wrong: boolean; checking: boolean }) {
  const [value, setValue] = useState("");
  const [typed, setTyped] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const refused = wrong && !checking;

  useEffect(() => {
    if (!refused || !typed) return;
    input.current?.focus();
    input.current?.select();
  }, [refused, typed]);

  return (
    <main class="login">
      <form
        class="login-card"
        aria-label="Sign in"
        onSubmit={(e) => {
          e.preventDefault();
          if (!value.trim() || checking) return;
          setTyped(true);
          if (refused && value.trim() === token.value) input.current?.select(); // the same refused token: the message stands
          else setToken(value.trim());
        }}
      >
        <h1>
          <span class="logo" aria-hidden="true">
            fw
          </span>{" "}
          fastworker
        </h1>
        <p>This control plane requires a token. Use the value it was started with (<code>--token</code> or <code>FW_TOKEN</code>).</p>
        <label>
          <span>Token</span>
          <input
            ref={input}
            type="password"
            name="token"
            autoComplete="current-password"
            autoFocus
            value={value}
            aria-invalid={refused || undefined}
            aria-describedby={refused ? "token-error" : undefined}
            onInput={(e) => setValue(e.currentTarget.value)}
          />
        </label>
        {refused && (
          <p class="error-text" id="token-error" role="alert">
            {typed
              ? "That token was refused: the control plane answered that it does not match the one it was started with. Check it and try again."
              : "The token this browser remembered was refused: the control plane's token may have changed. Enter the current one."}
          </p>
        )}
        <button type="submit" class="button button-primary" disabled={!value.trim() || checking}>
          {checking ? "Checking…" : "Open the dashboard"}
        </button>
        <p class="muted small">This browser remembers the token (localStorage) until you sign out.</p>
      </form>
    </main>
  );
}
