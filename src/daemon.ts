// `storeventd run`: the daemon. Loads the config (or the embedded default), starts the pipeline,
// tells systemd READY once senders are open, reloads on SIGHUP (a bad config keeps the old one),
// stops cleanly on SIGTERM/SIGINT (senders first, then receivers drain).
import { mkdirSync } from "node:fs";
import type { AnyPluginDef } from "./plugin-api.ts";
import { Registry } from "./registry.ts";
import { loadConfig, type Config } from "./config/load.ts";
import { ConfigError } from "./config/issues.ts";
import { Pipeline } from "./pipeline.ts";
import { createDeviceDirectory } from "./devices/index.ts";
import { ServiceMap } from "./util/services.ts";
import { DAEMON_STATUS_SERVICE } from "./fleet-api.ts";
import { type LogLevel, rootLog } from "./util/log.ts";
import { addonStatus, nativeAddon } from "./native.ts";
import { traceClock, tracing } from "./util/stage-trace.ts";
import { BUILD } from "./build-info.ts";
import { formatTime, nowUs, type EventDraft } from "./event.ts";
import { sdNotify, startWatchdog } from "./systemd/notify.ts";
import type { DaemonHandle, DaemonStatus, ReloadResult } from "./daemon-api.ts";
import { startWebListener, type WebListener } from "./web/server.ts";
import { startControlServer, type ControlServer } from "./control/server.ts";
import { FOLLOW_DEFAULTS, FollowHub } from "./control/follow.ts";
import { within } from "./util/timeout.ts";
import { normalJitPolicy } from "./util/jit-policy.ts";
import { writeStderr } from "./util/fd-writer.ts";
import { installHeapDebug } from "./util/heap-debug.ts";

export interface DaemonOptions {
  configPath?: string;
  plugins: AnyPluginDef[];
  logLevel?: string;
}

export class Daemon {
  readonly registry: Registry;
  readonly services = new ServiceMap();
  readonly devices = createDeviceDirectory();
  readonly pipeline: Pipeline;
  private log = rootLog.child("storeventd");
  private started = nowUs();
  private reloading: Promise<ReloadResult> | undefined;
  private web: WebListener | undefined;
  private control: ControlServer | undefined;
  /** The one live fan-out: NDJSON follow on the control socket and the web listener's WebSocket. */
  private follow: FollowHub | undefined;
  cfg!: Config;

  constructor(private opts: DaemonOptions) {
    this.registry = new Registry(opts.plugins);
    this.pipeline = new Pipeline({
      registry: this.registry, log: rootLog, devices: this.devices, services: this.services,
      native: nativeAddon(), mode: "daemon",
    });
    this.services.provide(DAEMON_STATUS_SERVICE, () => this.status());
  }

  private load(): Config {
    return loadConfig({ path: this.opts.configPath, registry: this.registry, allowEmbedded: true });
  }

  private applyLogLevel(cfg: Config): void {
    rootLog.configure(cfg.drbdReactor.log, cfg.main.log_level, this.opts.logLevel as LogLevel | undefined);
  }

  /** Loads and starts; throws ConfigError (exit 2) or Error (exit 1). */
  async start(): Promise<void> {
    this.cfg = this.load();
    this.applyLogLevel(this.cfg);
    try {
      mkdirSync(this.cfg.main.state_dir, { recursive: true, mode: 0o750 });
    } catch (e) {
      this.log.warn(`cannot create state_dir ${this.cfg.main.state_dir}: ${(e as Error).message}`);
    }
    const addon = addonStatus();
    if (!addon.loaded) this.log.warn(`native addon not loaded, running on TypeScript fallbacks: ${addon.error}`);
    const native = nativeAddon();
    if (tracing && native) traceClock(() => native.kmsgClock().monotonic_us);
    this.devices.scan(); // the one start-up scan: event-path lookups answer from memory
    const res = await this.pipeline.apply(this.cfg);
    if (res.failed.length) {
      // A start-up failure (a port in use): the instances that did start are closed again.
      await this.pipeline.stop(1000);
      throw new Error(res.failed.map((f) => f.error).join("\n"));
    }
    const handle = this.handle();
    this.follow = new FollowHub((l) => handle.subscribe(l), FOLLOW_DEFAULTS);
    if (this.cfg.main.listen) this.web = startWebListener(handle, { ...this.cfg.main, listen: this.cfg.main.listen }, rootLog.child("web"), this.follow);
    await this.startControl();
    this.log.info(`started ${BUILD.version} with ${this.cfg.embedded ? "the embedded default config" : this.cfg.files.join(", ")}: ${res.started.join(", ") || "no instances"}`);
    this.event({ severity: "info", system: "daemon", event_type: "DAEMON_STARTED", msg: `storeventd ${BUILD.version} started`, extension: { version: BUILD.version, pid: process.pid, addon: addon.loaded } });
  }

  /** The control socket; when it cannot be had (e.g. another daemon holds it) the daemon runs without. */
  private async startControl(): Promise<void> {
    const m = this.cfg.main;
    try {
      this.control = await startControlServer(this.handle(), { socketPath: m.control_socket, group: m.control_group, log: rootLog.child("control"), hub: this.follow });
    } catch (e) {
      this.log.warn(`no control socket (monitor, query, status, reload will not reach this daemon): ${(e as Error).message}`);
    }
  }

  event(d: EventDraft): void {
    this.pipeline.emitDraft({ ...d, source: "storeventd" });
  }

  /** Validates the new config first; applies only if valid; unchanged instances keep running. */
  reload(): Promise<ReloadResult> {
    this.reloading ??= this.doReload().finally(() => (this.reloading = undefined));
    return this.reloading;
  }

  private async doReload(): Promise<ReloadResult> {
    // systemd 253+ matches RELOADING=1 by CLOCK_MONOTONIC, which only the addon can read (Bun's
    // clocks count from process start).
    const mono = nativeAddon()?.kmsgClock().monotonic_us;
    sdNotify(mono !== undefined ? `RELOADING=1\nMONOTONIC_USEC=${Math.round(mono)}` : "RELOADING=1");
    try {
      const next = this.load();
      const res = await this.pipeline.apply(next);
      this.cfg = next;
      this.applyLogLevel(next);
      const lists = `started [${res.started.join(", ")}] stopped [${res.stopped.join(", ")}] kept [${res.kept.join(", ")}]`;
      if (res.failed.length) {
        // The new config is in force except for the failed instances: their old ones run again.
        const error = res.failed.map((f) => f.error).join("\n");
        this.log.error(`reload: ${res.failed.length} instance(s) failed to start${res.restored.length ? `; restored the previous [${res.restored.join(", ")}]` : ""}:\n${error}`);
        this.event({ severity: "error", system: "daemon", event_type: "DAEMON_RELOADED", msg: `config reloaded with ${res.failed.length} failed start(s): ${res.failed.map((f) => f.instance).join(", ")}`, extension: { ...res } });
        return { ok: false, error, ...res };
      }
      this.log.info(`reloaded: ${lists}`);
      this.event({ severity: "info", system: "daemon", event_type: "DAEMON_RELOADED", msg: `config reloaded: ${res.started.length} started, ${res.stopped.length} stopped, ${res.kept.length} kept`, extension: { ...res } });
      return { ok: true, ...res };
    } catch (e) {
      const msg = e instanceof ConfigError ? e.message : (e as Error).message;
      rootLog.reopen(); // logrotate's SIGHUP still gets its new files
      this.log.error(`reload failed, keeping the running config:\n${msg}`);
      return { ok: false, error: msg, started: [], stopped: [], kept: [] };
    } finally {
      sdNotify("READY=1");
    }
  }

  async stop(): Promise<void> {
    sdNotify("STOPPING=1");
    this.log.info("stopping");
    await within(this.web?.close(), 200);
    await this.pipeline.stop(this.cfg.main.shutdown_timeout, () =>
      this.event({ severity: "info", system: "daemon", event_type: "DAEMON_STOPPING", msg: "storeventd stopping", extension: { pid: process.pid } }),
    );
    // last: followers see DAEMON_STOPPING, then a clean end of stream
    this.follow?.close();
    await within(this.control?.close(), 200);
    await within(rootLog.close(), 200);
  }

  status(): DaemonStatus {
    return {
      version: BUILD.version, commit: BUILD.commit, pid: process.pid, started: formatTime(this.started),
      uptime_s: Math.round((nowUs() - this.started) / 1e6), config_files: this.cfg.embedded ? ["(embedded default)"] : this.cfg.files,
      addon: addonStatus(), hostname: this.cfg.main.hostname, instances: this.pipeline.instances(),
      counters: { ...Object.fromEntries(this.pipeline.counters), folded: this.pipeline.folder.folded },
      memory: (({ rss, heapUsed, heapTotal, external }) => ({ rss, heap_used: heapUsed, heap_total: heapTotal, external }))(process.memoryUsage()),
    };
  }

  handle(): DaemonHandle {
    return {
      status: () => this.status(),
      reload: () => this.reload(),
      subscribe: (f) => this.pipeline.subscribe(f),
      devices: this.devices,
      drbd: this.pipeline.drbd,
      main: () => this.cfg.main,
      services: this.services,
      plugins: () => this.registry.list(),
    };
  }
}

/** Runs until SIGTERM/SIGINT; returns the exit code. */
export async function runDaemon(opts: DaemonOptions): Promise<number> {
  const d = new Daemon(opts);
  // Signals are caught before anything starts: a SIGTERM during start-up stops right after it.
  let requestStop!: (sig: string) => void;
  const stopRequested = new Promise<string>((resolve) => (requestStop = resolve));
  let started = false;
  const onTerm = () => requestStop("SIGTERM");
  const onInt = () => requestStop("SIGINT");
  const onHup = () => {
    if (started) void d.reload().then(() => d.pipeline.reopenReceivers());
  };
  process.on("SIGTERM", onTerm);
  process.on("SIGINT", onInt);
  process.on("SIGHUP", onHup);
  const unhookHeap = installHeapDebug();
  const unhook = () => {
    unhookHeap();
    process.off("SIGTERM", onTerm);
    process.off("SIGINT", onInt);
    process.off("SIGHUP", onHup);
  };
  // WATCHDOG=1 at half of the unit's WatchdogSec= (if set) while the event loop runs, start-up included.
  const stopWatchdog = startWatchdog();
  try {
    await d.start();
    started = true;
  } catch (e) {
    stopWatchdog();
    unhook();
    await within(d.pipeline.stop(1000).catch(() => {}), 3000); // what did start must not keep the process alive
    writeStderr(e instanceof ConfigError ? `storeventd: invalid config:\n${e.message}\n` : `storeventd: cannot start: ${(e as Error).message}\n`);
    // Exit codes (SPEC): 2 usage or config error, 1 any other failure, start-up included.
    const code = e instanceof ConfigError ? 2 : 1;
    // Nothing that started before the failure (a listener's timers when its port is taken) may keep the process alive.
    setTimeout(() => process.exit(code), 500).unref();
    return code;
  }
  const tick = setInterval(() => d.pipeline.tick(), 250);
  // Start-up is over at READY, or after a second at the latest (a sender slow to report ready).
  const jit = setTimeout(normalJitPolicy, 1000).unref();
  void d.pipeline.whenReady(30_000).then((ok) => {
    if (!ok) rootLog.child("storeventd").warn("not every sender reported ready within 30 s; telling systemd READY anyway");
    sdNotify(`READY=1\nSTATUS=running\nMAINPID=${process.pid}`);
    clearTimeout(jit);
    normalJitPolicy();
    writeStderr.useStream(); // the log never blocks the event loop on a stalled reader (journald)
  });
  const status = setInterval(() => {
    const c = d.pipeline.counters;
    sdNotify(`STATUS=${c.get("events") ?? 0} events, ${c.get("records") ?? 0} records, ${c.get("receiver_dropped") ?? 0} dropped`);
  }, 10_000);
  const sig = await stopRequested;
  const log = rootLog.child("storeventd");
  log.info(`${sig} received`);
  // Stop is bounded: shutdown_timeout to drain, then receivers are closed; whatever still holds
  // the process after shutdown_timeout + STOP_HARD_MARGIN_MS (a hung close, a handle a plugin
  // leaked) does not keep it alive.
  const limit = d.cfg.main.shutdown_timeout + STOP_HARD_MARGIN_MS;
  setTimeout(() => {
    log.error(`stop did not finish within ${limit} ms; exiting anyway`);
    process.exit(1);
  }, limit).unref();
  clearInterval(tick);
  clearInterval(status);
  stopWatchdog();
  await d.stop();
  unhook();
  // Anything left (a receiver's stuck send(), a child that ignores signals) must not hold the exit.
  setTimeout(() => process.exit(process.exitCode ?? 0), 100).unref();
  return 0;
}

/** Stop's hard bound beyond shutdown_timeout (the issue's bound is shutdown_timeout + 2 s). */
const STOP_HARD_MARGIN_MS = 1800;
