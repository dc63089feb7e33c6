import { useEffect } from "preact/hooks";
import { dismiss, modalToastHosts, toasts } from "../model/toasts.js";
import { useStore } from "../model/store.js";

/**
 * The action results, bottom right; read out by screen readers. The page's
 * region steps aside while a modal view (`inModal`) shows its own.
 */
export function Toasts({ inModal = false }: { inModal?: boolean }) {
  const list = useStore(toasts);
  const hosts = useStore(modalToastHosts);
  useEffect(() => {
    if (!inModal) return;
    modalToastHosts.set(modalToastHosts.value + 1);
    return () => modalToastHosts.set(modalToastHosts.value - 1);
  }, [inModal]);
  if (!inModal && hosts > 0) return null;
  return (
    <div class="toasts" role="status" aria-live="polite">
      {list.map((t) => (
        <div key={t.id} class={`toast toast-${t.kind}`}>
          <span>{t.text}</span>
          <button type="button" class="link" aria-label="Dismiss" onClick={() => dismiss(t.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
