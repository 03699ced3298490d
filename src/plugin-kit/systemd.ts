// drbd-reactor's systemd naming for a promoted resource (units, OCF agents, start entries).
export * from "../systemd/ocf.ts";
