// dmeventd's lines (lvm2 daemons/dmeventd/plugins/*, same text in 2.03.16 (Debian 12), 2.03.2x
// (RHEL 9) and 2.03.3x (Debian 13)); lvconvert --repair runs inside dmeventd and logs as it.
import { PatternTable, type KPattern } from "../../../src/plugin-kit/kernel.ts";

export type LvmPatternId =
  | "thin_usage" | "snapshot_usage" | "snapshot_invalid" | "raid_device_failed" | "raid_primary_failed"
  | "raid_repair_failed" | "repair_replaced" | "mirror_failure" | "mirror_repair_failed" | "mirror_repair_done";

const P = "lvm2 daemons/dmeventd/plugins";

export const LVM_PATTERNS: readonly KPattern<LvmPatternId>[] = [
  {
    id: "thin_usage", needle: "Thin pool ",
    re: /^WARNING: Thin pool (?<dm>\S{1,256}) (?<what>data|metadata) is now (?<pct>\d{1,3}\.\d{2})% full\.$/,
    source: `${P}/thin/dmeventd_thin.c (_use_policy; logged from 80% in 5% steps)`,
    format: `log_warn("WARNING: Thin pool %s data is now %.2f%% full.", device, ...)` + " / metadata",
  },
  {
    id: "snapshot_usage", needle: "WARNING: Snapshot ",
    re: /^WARNING: Snapshot (?<dm>\S{1,256}) is now (?<pct>\d{1,3}\.\d{2})% full\.$/,
    source: `${P}/snapshot/dmeventd_snapshot.c`,
    format: `log_warn("WARNING: Snapshot %s is now %.2f%% full.", device, percent)`,
  },
  {
    id: "snapshot_invalid", needle: "changed state to: ",
    re: /^WARNING: Snapshot (?<dm>\S{1,256}) changed state to: (?<state>\S{1,32}) and should be removed\.$/,
    source: `${P}/snapshot/dmeventd_snapshot.c`,
    format: `log_warn("WARNING: Snapshot %s changed state to: %s and should be removed.", device, params)`,
  },
  {
    id: "raid_device_failed", needle: " array, ",
    re: /^WARNING: Device #(?<n>\d{1,5}) of (?<type>\S{1,16}) array, (?<dm>\S{1,256}), has failed\.$/,
    source: `${P}/raid/dmeventd_raid.c (_process_raid_event)`,
    format: `log_warn("WARNING: Device #%u of %s array, %s, has failed.", dev, status->raid_type, device)`,
  },
  {
    id: "raid_primary_failed", needle: "Primary sources for new RAID",
    re: /^Primary sources for new RAID, (?<dm>\S{1,256}), have failed\.$/,
    source: `${P}/raid/dmeventd_raid.c`,
    format: `log_error("Primary sources for new RAID, %s, have failed.", device)`,
  },
  {
    id: "raid_repair_failed", needle: "Repair of RAID device ",
    re: /^Repair of RAID device (?<dm>\S{1,256}) failed\.$/,
    source: `${P}/raid/dmeventd_raid.c`,
    format: `log_error("Repair of RAID device %s failed.", device)`,
  },
  {
    id: "repair_replaced", needle: "successfully replaced",
    re: /^Faulty devices in (?<lv>\S{1,256}) successfully replaced\.$/,
    source: "lvm2 tools/lvconvert.c (_lvconvert_raid_repair, run by dmeventd)",
    format: `log_print_unless_silent("Faulty devices in %s successfully replaced.", display_lvname(lv))`,
  },
  {
    id: "mirror_failure", needle: "Device failure in ",
    re: /^Device failure in (?<dm>\S{1,256})\.$/,
    source: `${P}/mirror/dmeventd_mirror.c`,
    format: `log_error("Device failure in %s.", device)`,
  },
  {
    id: "mirror_repair_failed", needle: "Repair of mirrored device ",
    re: /^Repair of mirrored device (?<dm>\S{1,256}) failed\.$/,
    source: `${P}/mirror/dmeventd_mirror.c (_remove_failed_devices)`,
    format: `log_error("Repair of mirrored device %s failed.", device)`,
  },
  {
    id: "mirror_repair_done", needle: "Repair of mirrored device ",
    re: /^Repair of mirrored device (?<dm>\S{1,256}) finished successfully\.$/,
    source: `${P}/mirror/dmeventd_mirror.c (_remove_failed_devices)`,
    format: `log_info("Repair of mirrored device %s finished successfully.", device)`,
  },
];

export const LVM_TABLE = new PatternTable<LvmPatternId>(LVM_PATTERNS);

/** A dm name "vg-lv-tpool" ("-" inside names doubled) -> vg, lv, layer. */
export function splitDmName(dm: string): { vg: string; lv: string; layer: string } {
  const parts: string[] = [];
  let cur = "";
  for (let i = 0; i < dm.length; i++) {
    if (dm[i] === "-") {
      if (dm[i + 1] === "-") {
        cur += "-";
        i++;
        continue;
      }
      parts.push(cur);
      cur = "";
      continue;
    }
    cur += dm[i];
  }
  parts.push(cur);
  return { vg: parts[0] ?? "", lv: parts[1] ?? "", layer: parts.slice(2).join("-") };
}
