// Live updates of the records list: subscribes to the collection's realtime topic while the
// screen is shown, and unsubscribes when it leaves (or shows another collection).
import { useEffect, useRef } from '../lib.js';
import { pb } from '../api.js';

/**
 * Calls `onChange({action, record})` for each record created, updated or deleted by anyone
 * (this dashboard included). Events come through `pb.collection(name).subscribe('*')`, from
 * when `enabled` (the list waits for its first page: the stream is not part of the first load).
 */
export function useLiveRecords(collection, onChange, enabled = true) {
  const handler = useRef(onChange);
  handler.current = onChange;
  useEffect(() => {
    if (!enabled) return;
    let unsubscribe = null;
    let gone = false;
    pb.collection(collection.name)
      .subscribe('*', (e) => handler.current(e))
      .then((unsub) => (gone ? unsub() : (unsubscribe = unsub)))
      .catch(() => {}); // no realtime (e.g. a stopped server): the list still works
    return () => {
      gone = true;
      unsubscribe?.().catch(() => {});
    };
  }, [collection.name, enabled]);
}
