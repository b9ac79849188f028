/**
 * A throwaway PostgreSQL server on loopback for the engine's shared-backend scenario:
 * Debian's `postgresql` binaries, a data folder in a private temp dir, a free port, trust
 * authentication for the loopback only. `stop()` stops it and removes the folder.
 *
 * initdb and postgres refuse to run as root: as root, they run as the `postgres` user the
 * Debian package creates.
 */
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { freePorts } from "../cluster/cluster";
import { reap, startReaper, stopReaper } from "./reaper";

export interface Postgres {
    /** `postgres://postgres@127.0.0.1:PORT/postgres?sslmode=disable` */
    readonly url: string;
    stop(): Promise<void>;
}

/** The folder of Debian's PostgreSQL server binaries (the newest installed), or undefined. */
export function postgresBin(): string | undefined {
    const root = "/usr/lib/postgresql";
    const versions = fs.existsSync(root)
        ? fs
              .readdirSync(root)
              .filter(v => fs.existsSync(path.join(root, v, "bin", "postgres")))
              .sort((a, b) => Number(b) - Number(a))
        : [];
    return versions.length > 0 ? path.join(root, versions[0], "bin") : undefined;
}

export async function startPostgres(): Promise<Postgres> {
    const bin = postgresBin();
    if (bin === undefined) {
        throw new Error("PostgreSQL is not installed: apt-get install postgresql (.ci/run does)");
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kaptain-postgres-"));
    const asRoot = process.getuid?.() === 0;
    const run = (command: string, args: string[]) =>
        asRoot ? ["runuser", ["-u", "postgres", "--", command, ...args]] : [command, args];
    // Should this process die without stop(): the server names its folder, and goes with it.
    const reaper = startReaper(dir);
    const remove = () => {
        reap(dir);
        stopReaper(reaper);
    };
    if (asRoot) {
        fs.chmodSync(dir, 0o755);
        execFileSync("chown", ["postgres:postgres", dir]);
    }
    const data = path.join(dir, "data");
    try {
        const [initdb, initArgs] = run(path.join(bin, "initdb"), [
            "-D",
            data,
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
        ]) as [string, string[]];
        execFileSync(initdb, initArgs, { stdio: "ignore" });
    } catch (err) {
        remove();
        throw err;
    }
    const [port] = await freePorts(1);
    const [postgres, args] = run(path.join(bin, "postgres"), [
        "-D",
        data,
        "-h",
        "127.0.0.1",
        "-p",
        String(port),
        "-k",
        dir,
        "-c",
        "fsync=off",
    ]) as [string, string[]];
    const child = spawn(postgres, args, { stdio: "ignore", detached: true });
    const stop = async () => {
        if (child.exitCode === null && child.pid !== undefined) {
            try {
                process.kill(-child.pid, "SIGTERM");
            } catch {
                // gone already
            }
            await new Promise<void>(resolve => {
                const timer = setTimeout(() => {
                    try {
                        process.kill(-child.pid!, "SIGKILL");
                    } catch {
                        // gone
                    }
                    resolve();
                }, 10_000);
                child.once("exit", () => {
                    clearTimeout(timer);
                    resolve();
                });
            });
        }
        remove();
    };
    // Ready when it accepts a connection.
    const deadline = Date.now() + 30_000;
    for (;;) {
        const ok = await new Promise<boolean>(resolve => {
            const socket = net.connect(port, "127.0.0.1", () => {
                socket.end();
                resolve(true);
            });
            socket.on("error", () => resolve(false));
        });
        if (ok) {
            break;
        }
        if (child.exitCode !== null || Date.now() > deadline) {
            await stop();
            throw new Error(`PostgreSQL did not start on port ${port}`);
        }
        await new Promise(resolve => setTimeout(resolve, 100));
    }
    return { url: `postgres://postgres@127.0.0.1:${port}/postgres?sslmode=disable`, stop };
}
