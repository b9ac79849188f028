// npm run bench -- [--releases 300] [--files 20000] [--megabytes 200] [--namespaces 2] [--runs 3]
//
// Measures what planning and the phase wrapper cost on a large generated repository,
// and prints one line per figure, then a summary naming each ratio. Not part of npm test.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { median, timed } from "./measure";
import { fingerprintRepository } from "../../sdk/fingerprint";
import { generateRepository } from "./generate";
import { STUB_BIN } from "../support/fixture";

const ROOT = path.resolve(__dirname, "../..");
const { values } = parseArgs({
    options: {
        releases: { type: "string", default: "300" },
        files: { type: "string", default: "20000" },
        megabytes: { type: "string", default: "200" },
        namespaces: { type: "string", default: "2" },
        runs: { type: "string", default: "3" },
        "wrapper-runs": { type: "string", default: "30" },
    },
});
const size = {
    releases: Number(values.releases),
    files: Number(values.files),
    megabytes: Number(values.megabytes),
    namespaces: Number(values.namespaces),
};
const runs = Number(values.runs);

function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
    const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024, ...opts });
    if (r.status !== 0) {
        const shown = args.map(a => (a.length > 200 ? "<script>" : a)).join(" ");
        throw new Error(`${cmd} ${shown} failed (${r.status}):\n${r.stderr}`);
    }
    return r;
}

const line = (label: string, value: string) => console.log(`${label.padEnd(44)} ${value}`);

const work = fs.mkdtempSync(path.join(os.tmpdir(), "kaptain-bench-"));
try {
    const repo = path.join(work, "project", "infra");
    const generated = timedValue(() => generateRepository(repo, size));
    line(
        "repository",
        `${size.releases} releases, ${generated.value.files} files, ` +
            `${(generated.value.bytes / 1048576).toFixed(0)} MB, ${size.namespaces} namespaces (generated in ${(generated.ms / 1000).toFixed(1)} s)`,
    );

    // A project whose program deploys namespace ns-0 of the generated repository.
    const project = path.join(work, "project");
    fs.writeFileSync(path.join(project, "Pulumi.yaml"), "name: bench\nruntime: nodejs\nmain: program.ts\n");
    fs.writeFileSync(
        path.join(project, "Pulumi.bench.yaml"),
        "config:\n  kaptain:namespace: ns-0\n  kaptain:workingDirectory: infra\n",
    );
    fs.writeFileSync(
        path.join(project, "program.ts"),
        `import { Infrastructure, infrastructureArgsFromConfig } from ${JSON.stringify(path.join(ROOT, "sdk"))};\n` +
            `new Infrastructure("bench", infrastructureArgsFromConfig());\n`,
    );

    // The floor: read and hash every byte once (the page cache is warmed by a first run).
    const floorCmd = `find ${JSON.stringify(repo)} -type f -print0 | xargs -0 sha256sum > /dev/null`;
    run("bash", ["-c", floorCmd]);
    const floor = median(Array.from({ length: runs }, () => timed(() => run("bash", ["-c", floorCmd]))));
    line("floor: find | xargs sha256sum", `${floor.toFixed(0)} ms (median of ${runs})`);

    // The fingerprint alone, in this process: the part of planning that grows with the repository.
    const fp = median(
        Array.from({ length: runs }, () =>
            timed(() => fingerprintRepository({ workingDirectory: repo, namespace: "ns-0" })),
        ),
    );
    line("fingerprint only (in-process)", `${fp.toFixed(0)} ms, ${(fp / floor).toFixed(2)} x floor`);

    const rssFile = path.join(work, "rss");
    const synthOnce = () => {
        const ms = timed(() =>
            run(
                process.execPath,
                [path.join(ROOT, "sdk/dev-cli.cjs"), "synth", "--project", project, "--stack", "bench"],
                {
                    env: {
                        ...process.env,
                        NODE_OPTIONS: `--require ${path.join(__dirname, "report-rss.cjs")}`,
                        BENCH_RSS_FILE: rssFile,
                    },
                },
            ),
        );
        const rss = Math.max(...fs.readFileSync(rssFile, "utf8").trim().split("\n").map(Number));
        fs.rmSync(rssFile);
        return { ms, rss };
    };
    const synths = Array.from({ length: runs }, synthOnce);
    const synthMs = median(synths.map(s => s.ms));
    const peak = Math.max(...synths.map(s => s.rss));
    line(
        "kaptain synth (wall, whole CLI)",
        `${synthMs.toFixed(0)} ms (median of ${runs}), ${(synthMs / floor).toFixed(2)} x floor`,
    );
    line("kaptain synth peak memory (max RSS)", `${(peak / 1048576).toFixed(0)} MB`);

    // Fixed cost, independent of the repository: synth on a one-file repository.
    const tiny = path.join(work, "tiny");
    fs.mkdirSync(path.join(tiny, "infra"), { recursive: true });
    fs.writeFileSync(path.join(tiny, "infra", "helmfile.yaml"), "releases: []\n");
    for (const f of ["Pulumi.yaml", "program.ts"]) fs.copyFileSync(path.join(project, f), path.join(tiny, f));
    fs.writeFileSync(
        path.join(tiny, "Pulumi.bench.yaml"),
        "config:\n  kaptain:namespace: ns-0\n  kaptain:workingDirectory: infra\n",
    );
    const startup = median(
        Array.from({ length: runs }, () =>
            timed(() =>
                run(process.execPath, [
                    path.join(ROOT, "sdk/dev-cli.cjs"),
                    "synth",
                    "--project",
                    tiny,
                    "--stack",
                    "bench",
                ]),
            ),
        ),
    );
    line("kaptain synth on an empty repository", `${startup.toFixed(0)} ms (Node, tsx, Pulumi SDK start-up)`);
    line(
        "kaptain synth minus start-up",
        `${(synthMs - startup).toFixed(0)} ms, ${((synthMs - startup) / floor).toFixed(2)} x floor`,
    );

    // One config file changed: the plan reports it; the cost is a full re-read.
    const changedFile = generated.value.lastCommonFile;
    const changed = median(
        Array.from({ length: runs }, (_, i) => {
            fs.appendFileSync(changedFile, `edit ${i}\n`);
            return synthOnce().ms;
        }),
    );
    line("kaptain synth after one config file changed", `${changed.toFixed(0)} ms (median of ${runs})`);

    // The wrapper: the install phase script with a helmfile that exits at once, against
    // calling that helmfile directly.
    const stub = path.join(work, "bin");
    fs.mkdirSync(stub);
    // It answers the preflight's `helmfile apply --help` as a helmfile with --hide-notes does.
    fs.writeFileSync(path.join(stub, "helmfile"), '#!/bin/sh\n[ "$2" = --help ] && echo --hide-notes\nexit 0\n', {
        mode: 0o755,
    });
    // The apply strategy's preflight asks helm for its diff plugin: the tests' stand-in answers.
    fs.copyFileSync(path.join(STUB_BIN, "helm"), path.join(stub, "helm"));
    const script = fs.readFileSync(path.join(project, "out", "bench", "phases", "install.create.sh"), "utf8");
    const nsDir = path.join(repo, "namespaces", "ns-0");
    const env = { ...process.env, PATH: `${stub}:${process.env.PATH}`, KUBECONFIG: path.join(work, "kubeconfig") };
    const wrapperRuns = Number(values["wrapper-runs"]);
    const direct = median(
        Array.from({ length: wrapperRuns }, () =>
            timed(() => run(path.join(stub, "helmfile"), [], { cwd: nsDir, env })),
        ),
    );
    const wrapped = median(
        // As the command provider runs it: from the repository (the Command's `dir`), which
        // the script leaves for the namespace folder itself.
        Array.from({ length: wrapperRuns }, () => timed(() => run("bash", ["-c", script], { cwd: repo, env }))),
    );
    line("helmfile stand-in called directly", `${direct.toFixed(1)} ms per run (median of ${wrapperRuns})`);
    line("install phase script around it", `${wrapped.toFixed(1)} ms per run (median of ${wrapperRuns})`);
    line("wrapper overhead", `${(wrapped - direct).toFixed(1)} ms per run`);

    const ok = (good: boolean) => (good ? "met" : "MISSED");
    console.log(
        `summary: synth/floor=${(synthMs / floor).toFixed(2)} (target <= 1.5: ${ok(synthMs / floor <= 1.5)}; ` +
            `without start-up ${((synthMs - startup) / floor).toFixed(2)}), fingerprint/floor=${(fp / floor).toFixed(2)}, ` +
            `peak=${(peak / 1048576).toFixed(0)}MB (target < 300MB: ${ok(peak < 300 * 1048576)}), ` +
            `wrapper=${(wrapped - direct).toFixed(1)}ms (target < 50ms: ${ok(wrapped - direct < 50)})`,
    );
} finally {
    fs.rmSync(work, { recursive: true, force: true });
}

function timedValue<T>(fn: () => T): { value: T; ms: number } {
    let value!: T;
    const ms = timed(() => {
        value = fn();
    });
    return { value, ms };
}
