// The event types this parser emits (the catalog in docs/events.md is generated from this).
import { eventTypes } from "../../../src/plugin-api.ts";

const FIELDS = {
  session: "iSCSI session number",
  connection: "iSCSI connection (session:connection)",
  error: "ISCSI_ERR_* code number",
  error_name: "ISCSI_ERR_* name (e.g. TCP_CONN_CLOSE)",
  ping_timeout_s: "NOP-Out ping timeout, seconds",
  recv_timeout_s: "receive timeout, seconds",
  recovery_timeout_s: "the session's recovery timeout, seconds",
  conn_state: "iscsid: the connection state number it reported",
  target: "the target's IQN",
  portal: "the portal, address:port",
  iface: "the iSCSI interface (iface) used",
  attempts: "reconnect attempts before it recovered",
  reason: "why the login failed",
};

export const EVENTS = eventTypes(FIELDS, [
  { type: "ISCSI_CONN_ERROR", system: "iscsi", severity: ["warn"], doc: "an iSCSI connection failed (the session tries to recover)",
    keys: ["session", "connection", "error", "error_name", "ping_timeout_s", "recv_timeout_s", "conn_state"] },
  { type: "ISCSI_CONN_UP", system: "iscsi", severity: ["info"], doc: "iscsid: a connection is operational", keys: ["session", "connection", "target", "portal", "iface"] },
  { type: "ISCSI_CONN_SHUTDOWN", system: "iscsi", severity: ["warn"], doc: "iscsid: a connection was shut down", keys: ["session", "connection", "target", "portal", "iface"] },
  { type: "ISCSI_CONN_RECOVERED", system: "iscsi", severity: ["info"], doc: "iscsid: a connection is operational again after recovery", keys: ["session", "connection", "attempts"] },
  { type: "ISCSI_LOGIN_FAILED", system: "iscsi", severity: ["error"], doc: "iscsid: a login was rejected or its authentication failed", keys: ["reason", "session", "connection", "target"] },
  { type: "ISCSI_SESSION_RECOVERY_TIMEOUT", system: "iscsi", severity: ["error"], doc: "a session did not recover in time: its I/O fails", keys: ["session", "recovery_timeout_s"] },
]);
