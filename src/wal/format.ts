// The log format shared by the WAL and the MANIFEST (docs/FORMAT.md, "Log
// files"). A log is a sequence of 32 KiB blocks; a record is stored as one or
// more fragments, each a 7-byte header and a payload, and no fragment crosses
// a block boundary. Header: u32 LE masked CRC32C over the type byte followed
// by the payload, u16 LE payload length, u8 type. The type byte sits right
// before the payload, so one CRC pass over [type, payload] covers both.

export const BLOCK_SIZE = 32 * 1024;
export const HEADER_SIZE = 7;

/** Byte offsets inside a fragment header. */
export const CRC_OFFSET = 0;
export const LENGTH_OFFSET = 4;
export const TYPE_OFFSET = 6;

export const FragmentType = {
  /** The whole record. */
  Full: 1,
  /** The record's first fragment; more follow. */
  First: 2,
  /** Neither first nor last. */
  Middle: 3,
  /** The record's last fragment. */
  Last: 4,
} as const;
export type FragmentType = (typeof FragmentType)[keyof typeof FragmentType];

export function isFragmentType(type: number): type is FragmentType {
  return type >= FragmentType.Full && type <= FragmentType.Last;
}

/** Type of a record's fragment, from whether it is the record's first and whether its last. */
export function fragmentType(isFirst: boolean, isLast: boolean): FragmentType {
  if (isFirst) return isLast ? FragmentType.Full : FragmentType.First;
  return isLast ? FragmentType.Last : FragmentType.Middle;
}

/**
 * Bytes a record of `payloadLength` bytes occupies when its first fragment
 * would start `blockOffset` bytes into a block, including the zero trailer
 * of any block it has to leave early.
 */
export function framedLength(blockOffset: number, payloadLength: number): number {
  let size = 0;
  let left = payloadLength;
  let offset = blockOffset;
  do {
    const room = BLOCK_SIZE - offset;
    if (room < HEADER_SIZE) {
      size += room;
      offset = 0;
    }
    const n = Math.min(BLOCK_SIZE - offset - HEADER_SIZE, left);
    size += HEADER_SIZE + n;
    offset += HEADER_SIZE + n;
    left -= n;
  } while (left > 0);
  return size;
}
