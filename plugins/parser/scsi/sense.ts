// SCSI sense decoding facts: sense key names as drivers/scsi/constants.c prints them (snstext[]),
// and the additional sense codes of drivers/scsi/sense_codes.h (T10 asc-num.txt) that matter on
// disks, arrays and their transports. The kernel prints the text; we map it back to numbers (and
// numbers to text when the kernel only knew "ASC=0x.. ASCQ=0x..").

/** snstext[] of drivers/scsi/constants.c, indexed by sense key. */
export const SENSE_KEYS: readonly string[] = [
  "No Sense", "Recovered Error", "Not Ready", "Medium Error", "Hardware Error", "Illegal Request",
  "Unit Attention", "Data Protect", "Blank Check", "Vendor Specific(9)", "Copy Aborted",
  "Aborted Command", "Equal", "Volume Overflow", "Miscompare", "Completed",
];

/** (asc << 8 | ascq) -> text, as in drivers/scsi/sense_codes.h. */
const ASC_TEXT: ReadonlyArray<readonly [number, string]> = [
  [0x0000, "No additional sense information"],
  [0x0300, "Peripheral device write fault"],
  [0x0400, "Logical unit not ready, cause not reportable"],
  [0x0401, "Logical unit is in process of becoming ready"],
  [0x0402, "Logical unit not ready, initializing command required"],
  [0x0403, "Logical unit not ready, manual intervention required"],
  [0x0404, "Logical unit not ready, format in progress"],
  [0x0405, "Logical unit not ready, rebuild in progress"],
  [0x0407, "Logical unit not ready, operation in progress"],
  [0x0409, "Logical unit not ready, self-test in progress"],
  [0x040A, "Logical unit not accessible, asymmetric access state transition"],
  [0x040B, "Logical unit not accessible, target port in standby state"],
  [0x040C, "Logical unit not accessible, target port in unavailable state"],
  [0x0412, "Logical unit not ready, offline"],
  [0x0500, "Logical unit does not respond to selection"],
  [0x0800, "Logical unit communication failure"],
  [0x0801, "Logical unit communication time-out"],
  [0x0802, "Logical unit communication parity error"],
  [0x0B00, "Warning"],
  [0x0B01, "Warning - specified temperature exceeded"],
  [0x0B02, "Warning - enclosure degraded"],
  [0x0C00, "Write error"],
  [0x0C01, "Write error - recovered with auto reallocation"],
  [0x0C02, "Write error - auto reallocation failed"],
  [0x0C03, "Write error - recommend reassignment"],
  [0x1000, "Id CRC or ECC error"],
  [0x1001, "Logical block guard check failed"],
  [0x1002, "Logical block application tag check failed"],
  [0x1003, "Logical block reference tag check failed"],
  [0x1100, "Unrecovered read error"],
  [0x1101, "Read retries exhausted"],
  [0x1102, "Error too long to correct"],
  [0x1103, "Multiple read errors"],
  [0x1104, "Unrecovered read error - auto reallocate failed"],
  [0x110B, "Unrecovered read error - recommend reassignment"],
  [0x110C, "Unrecovered read error - recommend rewrite the data"],
  [0x1401, "Record not found"],
  [0x1500, "Random positioning error"],
  [0x1501, "Mechanical positioning error"],
  [0x1600, "Data synchronization mark error"],
  [0x1701, "Recovered data with retries"],
  [0x1800, "Recovered data with error correction applied"],
  [0x1D00, "Miscompare during verify operation"],
  [0x2000, "Invalid command operation code"],
  [0x2100, "Logical block address out of range"],
  [0x2400, "Invalid field in cdb"],
  [0x2500, "Logical unit not supported"],
  [0x2600, "Invalid field in parameter list"],
  [0x2700, "Write protected"],
  [0x2701, "Hardware write protected"],
  [0x2707, "Space allocation failed write protect"],
  [0x2800, "Not ready to ready change, medium may have changed"],
  [0x2900, "Power on, reset, or bus device reset occurred"],
  [0x2901, "Power on occurred"],
  [0x2902, "Scsi bus reset occurred"],
  [0x2903, "Bus device reset function occurred"],
  [0x2904, "Device internal reset"],
  [0x2907, "I_T nexus loss occurred"],
  [0x2A01, "Mode parameters changed"],
  [0x2A03, "Reservations preempted"],
  [0x2A06, "Asymmetric access state changed"],
  [0x2A09, "Capacity data has changed"],
  [0x2F00, "Commands cleared by another initiator"],
  [0x3100, "Medium format corrupted"],
  [0x3200, "No defect spare location available"],
  [0x3807, "Thin Provisioning soft threshold reached"],
  [0x3A00, "Medium not present"],
  [0x3E01, "Logical unit failure"],
  [0x3E02, "Timeout on logical unit"],
  [0x3F03, "Inquiry data has changed"],
  [0x3F0E, "Reported luns data has changed"],
  [0x4400, "Internal target failure"],
  [0x4700, "Scsi parity error"],
  [0x4701, "Data phase CRC error detected"],
  [0x4B00, "Data phase error"],
  [0x4B07, "Connection lost"],
  [0x4E00, "Overlapped commands attempted"],
  [0x5500, "System resource failure"],
  [0x5503, "Insufficient resources"],
  [0x5D00, "Failure prediction threshold exceeded"],
  [0x5D01, "Media failure prediction threshold exceeded"],
  [0x5D02, "Logical unit failure prediction threshold exceeded"],
  [0x5DFF, "Failure prediction threshold exceeded (false)"],
];

const BY_CODE = new Map<number, string>(ASC_TEXT);
const BY_TEXT = new Map<string, number>(ASC_TEXT.map(([c, t]) => [t, c]));

export function senseKeyNumber(text: string): number | undefined {
  const i = SENSE_KEYS.indexOf(text);
  if (i >= 0) return i;
  const m = /^0x([0-9a-f]{1,2})$/i.exec(text);
  return m ? Number.parseInt(m[1]!, 16) : undefined;
}

export function senseKeyText(key: number): string {
  return SENSE_KEYS[key] ?? `0x${key.toString(16)}`;
}

export function ascText(asc: number, ascq: number): string | undefined {
  return BY_CODE.get((asc << 8) | ascq);
}

export function ascCode(text: string): { asc: number; ascq: number } | undefined {
  const c = BY_TEXT.get(text);
  return c === undefined ? undefined : { asc: c >> 8, ascq: c & 0xff };
}

/** The asc of the kernel's range entries (additional2[] in constants.c), printed as "<text>(<fmt><ascq>)". */
export const ASC_RANGES: Readonly<Record<string, number>> = {
  "Ram failure": 0x40,
  "Diagnostic failure on component": 0x40,
  "Data path failure": 0x41,
  "Power-on or self-test failure": 0x42,
  "Tagged overlapped commands": 0x4d,
  "Decompression exception": 0x70,
};

/** Severity of a sense key's meaning: data lost or device broken is an error. */
export function senseSeverity(key: number | undefined): "info" | "warn" | "error" {
  switch (key) {
    case 0x0: case 0x6: case 0xc: case 0xf: return "info"; // No Sense, Unit Attention, Equal, Completed
    case 0x3: case 0x4: case 0x7: case 0xb: case 0xd: case 0xe: return "error"; // Medium/Hardware, Data Protect, Aborted, Overflow, Miscompare
    default: return "warn"; // Recovered, Not Ready, Illegal Request, Blank Check, Copy Aborted, vendor
  }
}
