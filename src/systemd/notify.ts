// sd_notify(3) over $NOTIFY_SOCKET (AF_UNIX datagram, done in the addon since Bun has none).
// No-op when not under systemd. (Completed by the packaging work.)
export function sdNotify(state: string): boolean {
  void state;
  return false;
}
