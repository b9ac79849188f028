/**
 * Nothing of a test's private folder outlives it: every process that runs in the folder
 * (working directory inside it) or names it on its command line is killed, then the
 * folder is removed. That covers the Pulumi CLI (run in the engine's project folder), the
 * provider plugins (in its PULUMI_HOME), the phase scripts with their helmfile and helm
 * (in the repository copy) and a PostgreSQL server (its data folder).
 *
 * `startReaper` leaves a small detached shell behind that does the same if this process
 * dies without doing it (killed, or a signal handler that re-raises): the cluster module's
 * watchdog, for folders whose processes were not started in groups of their own.
 */
import { ChildProcess, execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

// The folder comes through the environment, not argv: pkill -f must not match the reaper.
// Processes started while the scan runs are caught by the next pass.
const REAP = `
    dir=$KAPTAIN_REAP_DIR
    case "$dir" in /?*) ;; *) echo "kaptain-reaper: refusing to reap '$dir'" >&2; exit 2 ;; esac
    for pass in 1 2 3; do
        found=
        for p in /proc/[0-9]*; do
            pid=\${p#/proc/}
            [ "$pid" = "$$" ] && continue
            cwd=$(readlink "$p/cwd" 2>/dev/null) || continue
            case "$cwd/" in "$dir"/*) kill -KILL "$pid" 2>/dev/null && found=1 ;; esac
        done
        pkill -KILL -f -- "$dir" 2>/dev/null && found=1
        [ -n "$found" ] || break
        sleep 0.2
    done
    rm -rf -- "$dir"`;

/** The folder as processes see it (links resolved); refuses what is not a folder of its own. */
function target(dir: string): string {
    const real = fs.realpathSync(dir);
    if (!path.isAbsolute(real) || real === "/" || real === os.tmpdir() || !fs.statSync(real).isDirectory()) {
        throw new Error(`the reaper only removes a test's own folder, not ${real}`);
    }
    return real;
}

/** Kills what runs in or names `dir`, and removes it. */
export function reap(dir: string): void {
    if (!fs.existsSync(dir)) {
        return;
    }
    dir = target(dir);
    execFileSync("bash", ["-c", REAP, "kaptain-reaper"], {
        stdio: "ignore",
        env: { ...process.env, KAPTAIN_REAP_DIR: dir },
    });
}

/** A detached watchdog that reaps `dir` once this process is gone, unless `dir` went first. */
export function startReaper(dir: string): ChildProcess {
    dir = target(dir);
    const script = `
        parent=$1
        while kill -0 "$parent" 2>/dev/null && [ -d "$KAPTAIN_REAP_DIR" ]; do sleep 1; done
        [ -d "$KAPTAIN_REAP_DIR" ] || exit 0
        ${REAP}`;
    const child = spawn("bash", ["-c", script, "kaptain-reaper", String(process.pid)], {
        detached: true,
        stdio: "ignore",
        env: { ...process.env, KAPTAIN_REAP_DIR: dir },
    });
    child.unref();
    return child;
}

/** Stops a watchdog that is no longer needed (its folder was reaped in time). */
export function stopReaper(reaper: ChildProcess): void {
    try {
        process.kill(-reaper.pid!, "SIGKILL");
    } catch {
        // gone already
    }
}
