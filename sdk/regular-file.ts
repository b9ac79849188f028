import * as fs from "node:fs";

/**
 * A path the program reads that is not a regular file: a FIFO, a socket, a device. Reading
 * a FIFO blocks until something writes to it, so the program (and helmfile after it) would
 * hang instead of failing; a device can be endless. Names the path and what it is.
 */
export class NotRegularFileError extends Error {
    constructor(
        readonly file: string,
        readonly kind: string,
    ) {
        super(`${file} ${notRegularReason(kind)}`);
        this.name = "NotRegularFileError";
    }
}

/** The reason, after the file's name: `is a FIFO (named pipe), not a regular file: …`. */
export function notRegularReason(kind: string): string {
    return `is ${kind}, not a regular file: reading it could block forever`;
}

/** What a non-regular file is, for an error message. */
export function describeFileType(stat: fs.Stats): string {
    return stat.isFIFO()
        ? "a FIFO (named pipe)"
        : stat.isSocket()
          ? "a socket"
          : stat.isCharacterDevice()
            ? "a character device"
            : stat.isBlockDevice()
              ? "a block device"
              : stat.isDirectory()
                ? "a folder"
                : "a special file";
}

/**
 * Opens a file for reading without ever blocking: non-blocking, so that opening a FIFO
 * returns at once, then checked with fstat on the open descriptor (no window between the
 * check and the read). Throws {@link NotRegularFileError} for anything but a regular file,
 * and the usual `ENOENT`/`EACCES` errors otherwise. The caller closes the descriptor.
 */
export function openRegularFile(file: string): number {
    const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    try {
        const stat = fs.fstatSync(fd);
        if (!stat.isFile()) {
            throw new NotRegularFileError(file, describeFileType(stat));
        }
        return fd;
    } catch (err) {
        fs.closeSync(fd);
        throw err;
    }
}

/** Reads a regular file whole; see {@link openRegularFile} for what else it throws. */
export function readRegularFile(file: string): Buffer;
export function readRegularFile(file: string, encoding: BufferEncoding): string;
export function readRegularFile(file: string, encoding?: BufferEncoding): string | Buffer {
    const fd = openRegularFile(file);
    try {
        return encoding === undefined ? fs.readFileSync(fd) : fs.readFileSync(fd, encoding);
    } finally {
        fs.closeSync(fd);
    }
}

/**
 * Why an existing path is not a regular file, or undefined when it is one or does not
 * exist (a missing file is reported elsewhere, with where it was looked for). Only stats:
 * for a file the program does not read itself but hands to helmfile or kubectl.
 */
export function notRegularFileProblem(file: string): string | undefined {
    let stat: fs.Stats;
    try {
        stat = fs.statSync(file);
    } catch {
        return undefined;
    }
    return stat.isFile() ? undefined : new NotRegularFileError(file, describeFileType(stat)).message;
}
