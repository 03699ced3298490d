// NVMe host driver messages -> NVME_* events: command timeouts and what the driver did about them,
// controller resets, and controllers given up on.
import type { EventDraft, KmsgRecord } from "../../../src/plugin-api.ts";
import { PatternTable, decNum, fromRecord, hexNum, minSeq, type KMatch, type KPattern, type KmsgParserState } from "../../../src/plugin-kit/kernel.ts";

// dev_warn(ctrl->device, ...): the nvme class device "nvme%d"; the pci device ("nvme 0000:01:00.0: ") is not a controller name.
const PFX = String.raw`^nvme (?<ctrl>nvme\d{1,5}): `;
const re = (body: string) => new RegExp(PFX + body);

export type NvmePatternId = "timeout" | "abort_status" | "not_ready" | "ctrl_down" | "reset" | "removing" | "disabling" | "io_error";

export const NVME_PATTERNS: readonly KPattern<NvmePatternId>[] = [
  {
    id: "timeout", needle: " timeout, ",
    re: re(String.raw`I/O (?:tag )?(?<tag>\d{1,7}) (?:\((?<cid>[0-9a-f]{4})\) )?(?:\((?<opname1>[A-Za-z][^()]{0,40})\) )?(?:opcode (?<opcode>0x[0-9a-f]{1,2}|0) \((?<opname>[^()]{1,40})\) )?QID (?<qid>\d{1,5}) timeout, (?<action>aborting|reset controller|completion polled|disable controller)(?: req_op:(?<reqop>[A-Z_]{1,24})\(\d{1,3}\) size:(?<size>\d{1,12}))?$`),
    source: "drivers/nvme/host/pci.c (nvme_timeout), drivers/nvme/host/rdma.c (nvme_rdma_timeout, 4.18)",
    format: `6.x: "I/O tag %d (%04x) QID %d timeout, completion polled|disable controller", 5.x: "I/O %d (%s) QID %d timeout, aborting|reset controller", "I/O tag %d (%04x) opcode %#x (%s) QID %d timeout, reset controller", "... timeout, aborting req_op:%s(%u) size:%u"; 4.18/5.14: "I/O %d QID %d timeout, aborting|reset controller|completion polled|disable controller"`,
  },
  {
    id: "abort_status", needle: "Abort status: 0x",
    re: re(String.raw`Abort status: 0x(?<status>[0-9a-f]{1,4})$`),
    source: "drivers/nvme/host/pci.c (abort_endio, 4.x .. 6.x)",
    format: `"Abort status: 0x%x" (the completion of the Abort command a timeout sent)`,
  },
  {
    id: "not_ready", needle: "Device not ready; aborting ",
    re: re(String.raw`Device not ready; aborting (?<op>reset|initialisation|shutdown)(?:, CSTS=0x(?<csts>[0-9a-f]{1,8}))?$`),
    source: "drivers/nvme/host/core.c (nvme_wait_ready)",
    format: `6.x: "Device not ready; aborting %s, CSTS=0x%x" ("reset", "initialisation", "shutdown"); 4.x/5.x: "Device not ready; aborting %s"`,
  },
  {
    id: "ctrl_down", needle: "controller is down; will reset: CSTS=0x",
    re: re(String.raw`controller is down; will reset: CSTS=0x(?<csts>[0-9a-f]{1,8}), PCI_STATUS(?:=0x(?<pcistatus>[0-9a-f]{1,4})| read failed \((?<pcierr>-?\d{1,6})\))$`),
    source: "drivers/nvme/host/pci.c (nvme_warn_reset)",
    format: `"controller is down; will reset: CSTS=0x%x, PCI_STATUS=0x%hx" / "controller is down; will reset: CSTS=0x%x, PCI_STATUS read failed (%d)"`,
  },
  {
    id: "reset", needle: "resetting controller",
    re: re(String.raw`resetting controller(?: due to (?<reason>AER|persistent internal error))?$`),
    source: "drivers/nvme/host/core.c (nvme_handle_aer_persistent_error)",
    format: `"resetting controller due to AER" (5.x), "resetting controller due to persistent internal error" (6.x)`,
  },
  {
    id: "removing", needle: "Removing after probe failure status: ",
    re: re(String.raw`Removing after probe failure status: (?<status>-?\d{1,6})$`),
    source: "drivers/nvme/host/pci.c (nvme_remove_dead_ctrl / nvme_reset_work)",
    format: `"Removing after probe failure status: %d"`,
  },
  {
    id: "disabling", needle: "Disabling device after reset failure: ",
    re: re(String.raw`Disabling device after reset failure: (?<status>-?\d{1,6})$`),
    source: "drivers/nvme/host/pci.c (nvme_reset_work, 5.x/6.x)",
    format: `"Disabling device after reset failure: %d"`,
  },
  {
    id: "io_error", needle: " blocks, ",
    re: /^(?<ns>nvme\d{1,5}(?:c\d{1,5})?n\d{1,5}): (?<op>[^()]{1,40})\(0x(?<opcode>[0-9a-f]{1,2})\) @ LBA (?<lba>\d{1,20}), (?<blocks>\d{1,10}) blocks, (?<status>.{1,80}?) \(sct 0x(?<sct>[0-9a-f]) \/ sc 0x(?<sc>[0-9a-f]{1,2})\) ?(?<more>MORE )?(?<dnr>DNR )?$/,
    source: "drivers/nvme/host/core.c (nvme_log_error, 5.18+), status text from drivers/nvme/host/constants.c",
    format: `"%s: %s(0x%x) @ LBA %llu, %u blocks, %s (sct 0x%x / sc 0x%x) %s%s" ("MORE ", "DNR ")`,
  },
];

export const NVME_TABLE = new PatternTable<NvmePatternId>(NVME_PATTERNS, (msg) => msg.startsWith("nvme"));

const ERRNO: Readonly<Record<number, string>> = {
  [-4]: "EINTR", [-5]: "EIO", [-12]: "ENOMEM", [-16]: "EBUSY", [-19]: "ENODEV", [-22]: "EINVAL", [-110]: "ETIMEDOUT",
};

/** Status Code Types (NVMe base specification, Completion Queue Entry). */
const SCT = ["generic", "command specific", "media and data integrity", "path related"];

function build(id: NvmePatternId, g: Record<string, string | undefined>, rec: KmsgRecord, msg: string): EventDraft {
  if (id === "io_error") return ioError(g, rec, msg);
  const ctrl = g.ctrl!;
  const ext: Record<string, unknown> = { controller: ctrl };
  const d = { ...fromRecord(rec, msg), system: "nvme" as const, dev_name: ctrl, extension: ext };
  switch (id) {
    case "timeout": {
      const action = g.action!;
      ext.tag = decNum(g.tag);
      if (g.cid !== undefined) ext.command_id = `0x${g.cid}`;
      if (g.opcode !== undefined) ext.opcode = hexNum(g.opcode);
      const opname = g.opname ?? g.opname1;
      if (opname !== undefined) ext.opcode_name = opname;
      ext.qid = decNum(g.qid);
      ext.queue = g.qid === "0" ? "admin" : "io";
      ext.action = action;
      if (g.reqop !== undefined) ext.req_op = g.reqop;
      if (g.size !== undefined) ext.size = decNum(g.size);
      // Reset and abort retry the command (warn); a timeout while the controller is being disabled fails it.
      const severe = action === "disable controller";
      const what = opname ? `${opname} command` : "command";
      return {
        ...d, severity: severe ? "error" : "warn", event_type: "NVME_IO_TIMEOUT",
        msg: `${what} (tag ${g.tag}) timed out on ${g.qid === "0" ? "admin queue" : `queue ${g.qid}`}, ${action}`,
      };
    }
    case "ctrl_down": {
      const csts = hexNum(g.csts)!;
      ext.csts = `0x${g.csts}`;
      if (g.pcistatus !== undefined) ext.pci_status = `0x${g.pcistatus}`;
      if (g.pcierr !== undefined) ext.pci_status_error = decNum(g.pcierr);
      const gone = csts === 0xffffffff;
      ext.fatal_status = !gone && (csts & 0x2) !== 0; // CSTS.CFS
      ext.unreachable = gone;
      return {
        ...d, severity: "error", event_type: "NVME_CTRL_RESET",
        msg: gone ? "controller unreachable (CSTS all ones), resetting" : `controller is down (CSTS 0x${g.csts}), resetting`,
      };
    }
    case "abort_status":
      ext.abort_status = `0x${g.status}`;
      return { ...d, severity: "warn", event_type: "NVME_IO_TIMEOUT", msg: "abort completed" };
    case "not_ready": {
      ext.aborted = g.op;
      if (g.csts !== undefined) ext.csts = `0x${g.csts}`;
      return { ...d, severity: "error", event_type: "NVME_CTRL_DEAD", msg: `controller not ready, ${g.op} aborted` };
    }
    case "reset":
      if (g.reason) ext.reason = g.reason;
      return { ...d, severity: "warn", event_type: "NVME_CTRL_RESET", msg: `resetting controller${g.reason ? ` due to ${g.reason}` : ""}` };
    case "removing":
    case "disabling": {
      const status = decNum(g.status)!;
      ext.status = status;
      if (ERRNO[status]) ext.errno = ERRNO[status];
      const how = id === "removing" ? "removed after probe failure" : "disabled after reset failure";
      return { ...d, severity: "error", event_type: "NVME_CTRL_DEAD", msg: `controller ${how} (${ERRNO[status] ?? status})` };
    }
  }
}

function ioError(g: Record<string, string | undefined>, rec: KmsgRecord, msg: string): EventDraft {
  const sct = hexNum(g.sct)!;
  const ext: Record<string, unknown> = {
    namespace: g.ns, command: g.op, opcode: hexNum(g.opcode), lba: decNum(g.lba) ?? g.lba, blocks: decNum(g.blocks),
    status: g.status, sct, sct_name: SCT[sct] ?? "vendor specific", sc: hexNum(g.sc), more: g.more !== undefined, dnr: g.dnr !== undefined,
  };
  return {
    ...fromRecord(rec, msg), system: "nvme", dev_name: g.ns, extension: ext, severity: "error", event_type: "NVME_IO_ERROR",
    msg: `${g.status} on ${g.op} at LBA ${g.lba}${g.dnr ? " (do not retry)" : ""}`,
  };
}

/** drivers/nvme/host/pci.c nvme_warn_reset() when CSTS reads all ones (5.x/6.x): "Does your device have a faulty power
 * saving mode enabled?" and "Try \"nvme_core.default_ps_max_latency_us=0 pcie_aspm=off[ pcie_port_pm=off]\" and report a bug". */
const HINT = /^nvme (nvme\d{1,5}): (?:Does your device have a faulty power saving mode enabled\?|Try "[\w.=\s]{1,120}" and report a bug)$/;

/**
 * Most lines are one event each. A timeout that sends an Abort is held for the Abort's "Abort
 * status" line; a controller that is down or not ready is held for the "Removing after probe
 * failure" / "Disabling device" line that follows: one report, one event, at most one flush tick.
 */
export function nvmeParser(now: () => number = () => performance.now()): KmsgParserState {
  const pending = new Map<string, { d: EventDraft; atMs: number }>();
  const release = (ctrl: string, emit: (d: EventDraft) => void) => {
    const p = pending.get(ctrl);
    if (p) {
      pending.delete(ctrl);
      emit(p.d);
    }
  };
  // Apart from parse(), which every record runs: the JIT compiles this only for nvme's messages.
  const matched = (m: KMatch<NvmePatternId>, rec: KmsgRecord, msg: string, emit: (d: EventDraft) => void) => {
    const ctrl = m.groups.ctrl;
    const held = ctrl !== undefined ? pending.get(ctrl)?.d : undefined;
    const follows = held && (
      (m.id === "abort_status" && held.event_type === "NVME_IO_TIMEOUT") ||
      ((m.id === "removing" || m.id === "disabling") && held.event_type !== "NVME_IO_TIMEOUT"));
    if (held && follows) {
      held.raw = `${held.raw}\n${rec.raw}`;
      const ext = held.extension as Record<string, unknown>;
      if (m.id === "abort_status") ext.abort_status = `0x${m.groups.status}`;
      else {
        ext.status = decNum(m.groups.status);
        held.event_type = "NVME_CTRL_DEAD";
        held.severity = "error";
        held.msg = `${held.msg}; controller ${m.id === "removing" ? "removed" : "disabled"}`;
      }
      release(ctrl!, emit);
      return;
    }
    if (ctrl !== undefined) release(ctrl, emit);
    if (m.id === "abort_status") return; // an abort whose timeout line was not seen
    const d = build(m.id, m.groups, rec, msg);
    const hold = (m.id === "timeout" && m.groups.action === "aborting") || m.id === "not_ready" || m.id === "ctrl_down";
    if (hold && ctrl !== undefined) pending.set(ctrl, { d, atMs: now() });
    else emit(d);
  };
  return {
    parse(rec, msg, emit) {
      const m = NVME_TABLE.match(msg);
      if (m) return matched(m, rec, msg, emit);
      // nvme_warn_reset()'s hints after an all-ones CSTS belong to that controller-down report.
      const hint = msg.startsWith("nvme ") ? HINT.exec(msg) : null;
      const p = hint ? pending.get(hint[1]!) : undefined;
      if (p && p.d.event_type === "NVME_CTRL_RESET") p.d.raw = `${p.d.raw}\n${rec.raw}`;
    },
    nextFlushIn: () => (pending.size ? Math.min(...[...pending.values()].map((p) => p.atMs + 100)) - now() : undefined),
    oldestHeld: () => minSeq([...pending.values()].map((p) => p.d.raw)),
    flush(emit, final) {
      for (const [ctrl, p] of pending) if (final || now() - p.atMs >= 100) release(ctrl, emit);
    },
  };
}
