// What counts as an input file: symlinks followed, Pulumi project files and synth's
// output left out, bad links reported by name.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { describe, expect, it } from "vitest";
import { archiveDigest, fingerprintRepository, FingerprintGroup, SYNTH_OUTPUT_MARKER } from "../../sdk/fingerprint";
import { resolveInfrastructure } from "../../sdk/infrastructure-resolve";
import { copyFixture, errorOf, tempDir, writeTree } from "../support/fixture";

function fingerprint(repo: string, namespace = "dev"): Record<string, string> {
    const groups: FingerprintGroup[] = fingerprintRepository({ workingDirectory: repo, namespace });
    return Object.fromEntries(groups.map(g => [g.group, `${g.digest}/${g.files}`]));
}

function freshRepo(): { root: string; repo: string } {
    const root = tempDir();
    return { root, repo: copyFixture(path.join(root, "repo")) };
}

describe("symlinks count as what they point to", () => {
    it("an edit to a linked file's target outside the repository is an edit", () => {
        const { root, repo } = freshRepo();
        writeTree(root, { "shared/common.conf": "v1\n" });
        fs.symlinkSync(path.join(root, "shared/common.conf"), path.join(repo, "configs/app/common.conf"));
        const before = fingerprint(repo);
        fs.writeFileSync(path.join(root, "shared/common.conf"), "v2\n");
        const after = fingerprint(repo);
        expect(after["configs/app"]).not.toBe(before["configs/app"]);
        expect({ ...after, "configs/app": "" }).toEqual({ ...before, "configs/app": "" });
    });

    it("a namespace folder that is a link is walked, and an edit inside it is an edit", () => {
        const { root, repo } = freshRepo();
        fs.renameSync(path.join(repo, "namespaces/dev"), path.join(root, "dev-elsewhere"));
        fs.symlinkSync(path.join(root, "dev-elsewhere"), path.join(repo, "namespaces/dev"));
        const before = fingerprint(repo);
        expect(before["namespaces/dev/configs/app"]).toBeDefined();
        fs.appendFileSync(path.join(root, "dev-elsewhere/configs/app/a.conf"), "edited\n");
        expect(fingerprint(repo)["namespaces/dev/configs/app"]).not.toBe(before["namespaces/dev/configs/app"]);
    });

    it("a dangling link is an error naming the link and its target", () => {
        const { repo } = freshRepo();
        fs.symlinkSync("../../nowhere.conf", path.join(repo, "configs/app/gone.conf"));
        expect(() => fingerprint(repo)).toThrow(
            "configs/app/gone.conf is a symlink to ../../nowhere.conf, which does not exist (ENOENT)",
        );
    });

    it("a loop is an error naming the link", () => {
        const { repo } = freshRepo();
        fs.symlinkSync("..", path.join(repo, "configs/back"));
        expect(() => fingerprint(repo)).toThrow("configs/back is a symlink loop");
        const other = freshRepo().repo;
        fs.symlinkSync("self", path.join(other, "self"));
        expect(() => fingerprint(other)).toThrow("self is a symlink loop (-> self)");
    });

    it("reaches the user before anything deploys, as an error on `workingDirectory`", () => {
        const { root, repo } = freshRepo();
        fs.symlinkSync("missing", path.join(repo, "configs/app/x"));
        const err = errorOf(() => resolveInfrastructure({ namespace: "dev", workingDirectory: repo }, root));
        expect(err.message).toContain(
            "`workingDirectory` cannot be read for change detection: configs/app/x is a symlink to missing",
        );
        expect(err.message).toContain("`fingerprintExclude` can leave a path out");
    });
});

describe("files of a Pulumi project are not helmfile inputs", () => {
    it("leaves out Pulumi.yaml, stack files, the package and synth's marked output at the top level", () => {
        const { repo } = freshRepo();
        const before = fingerprint(repo);
        writeTree(repo, {
            "Pulumi.yaml": "name: x\n",
            "Pulumi.dev.yaml": "config: {}\n",
            "package.json": "{}\n",
            "package-lock.json": "{}\n",
            "tsconfig.json": "{}\n",
            [`out/${SYNTH_OUTPUT_MARKER}`]: "",
            "out/dev/plan.json": "{}\n",
            ".kaptain.lock/pid": "1\n",
            "namespaces/dev/.kaptain.lock/pid": "1\n",
        });
        // The phase lock: a link to a pid, dangling by design.
        fs.symlinkSync("12345", path.join(repo, "namespaces/dev/.kaptain-lock"));
        expect(fingerprint(repo)).toEqual(before);
    });

    it("still counts such names below the top level, and an output folder without synth's marker", () => {
        const { repo } = freshRepo();
        const before = fingerprint(repo);
        writeTree(repo, { "configs/app/package.json": "{}\n", "out/dev/plan.json": "{}\n" });
        const after = fingerprint(repo);
        expect(after["configs/app"]).not.toBe(before["configs/app"]);
        expect(after["out/dev"]).toBeDefined();
    });
});

describe("an archive counts by its entries", () => {
    function tarEntry(name: string, type: string, body: Buffer): Buffer {
        const header = Buffer.alloc(512);
        header.write(name, 0);
        header.write("0000644\0", 100);
        header.write(`${body.length.toString(8).padStart(11, "0")}\0`, 124);
        header.write(type, 156);
        header.write("ustar\0", 257);
        return Buffer.concat([header, body, Buffer.alloc((512 - (body.length % 512)) % 512)]);
    }
    const archive = (...entries: Buffer[]) => zlib.gzipSync(Buffer.concat([...entries, Buffer.alloc(1024)]));

    it("a contiguous file (type 7) by its content, as extraction writes it", () => {
        const dir = tempDir();
        const file = path.join(dir, "a.tgz");
        fs.writeFileSync(file, archive(tarEntry("a.txt", "7", Buffer.from("one"))));
        const one = archiveDigest(file);
        fs.writeFileSync(file, archive(tarEntry("a.txt", "7", Buffer.from("two"))));
        expect(archiveDigest(file)).not.toBe(one);
    });

    it("a path there twice in archive order: the later copy is what extraction keeps", () => {
        const dir = tempDir();
        const file = path.join(dir, "a.tgz");
        const [x, y] = [tarEntry("a.txt", "0", Buffer.from("x")), tarEntry("a.txt", "0", Buffer.from("y"))];
        fs.writeFileSync(file, archive(x, y));
        const xy = archiveDigest(file);
        fs.writeFileSync(file, archive(y, x));
        expect(archiveDigest(file)).not.toBe(xy);
    });

    it("by its bytes when it would unpack to more than 64 MiB", () => {
        const dir = tempDir();
        const file = path.join(dir, "big.tgz");
        fs.writeFileSync(file, zlib.gzipSync(Buffer.alloc(65 * 1024 * 1024)));
        expect(archiveDigest(file)).toBeUndefined();
    });
});

describe("what helm rewrites while helmfile deploys changes nothing; what the user changes does", () => {
    const CHART =
        "apiVersion: v2\nname: web\nversion: 0.1.0\ndependencies:\n  - name: lib\n    version: 0.1.0\n    repository: file://../lib\n";
    const LOCK =
        'dependencies:\n- name: lib\n  repository: file://../lib\n  version: 0.1.0\ndigest: sha256:aaaa\ngenerated: "2026-11-30T10:00:00Z"\n';

    function chartRepo(chart = CHART): string {
        const { repo } = freshRepo();
        writeTree(repo, {
            "charts/web/Chart.yaml": chart,
            "charts/web/Chart.lock": LOCK,
            "charts/web/templates/cm.yaml": "kind: ConfigMap\n",
            "charts/lib/Chart.yaml": "apiVersion: v2\nname: lib\ntype: library\nversion: 0.1.0\n",
        });
        return repo;
    }

    /** Packs `charts/lib` the way helm does, as charts/web/charts/lib-0.1.0.tgz, with the given file times. */
    function pack(repo: string, mtime: Date): void {
        for (const f of ["charts/lib/Chart.yaml", "charts/lib"]) {
            fs.utimesSync(path.join(repo, f), mtime, mtime);
        }
        fs.mkdirSync(path.join(repo, "charts/web/charts"), { recursive: true });
        execFileSync("tar", [
            "-czf",
            path.join(repo, "charts/web/charts/lib-0.1.0.tgz"),
            "-C",
            path.join(repo, "charts"),
            "lib",
        ]);
    }

    /** A chart that declares `lib` without a repository: helm never fetches it, its archive is the user's. */
    const VENDORED = "apiVersion: v2\nname: web\nversion: 0.1.0\ndependencies:\n  - name: lib\n    version: 0.1.0\n";

    it("the archive helm builds for a declared dependency, appearing on the first deploy, changes nothing", () => {
        const repo = chartRepo();
        const before = fingerprint(repo);
        pack(repo, new Date("2026-11-30T10:00:00Z"));
        writeTree(repo, {
            "charts/web/tmpcharts-8838/lib-0.1.0.tgz": "half-built",
            "charts/web/tmpcharts123/x": "half-built",
        });
        expect(fingerprint(repo)).toEqual(before);
        // Its source stays an input: an edit of the library is an edit.
        writeTree(repo, { "charts/lib/values.yaml": "x: 1\n" });
        expect(fingerprint(repo)["charts/lib"]).not.toBe(before["charts/lib"]);
    });

    it("a user's archive counts by its content: repacked the same, no change; with new content, an edit", () => {
        const repo = chartRepo(VENDORED);
        pack(repo, new Date("2026-11-30T10:00:00Z"));
        const before = fingerprint(repo);
        const bytes = fs.readFileSync(path.join(repo, "charts/web/charts/lib-0.1.0.tgz"));
        pack(repo, new Date("2026-12-01T08:00:00Z"));
        expect(fs.readFileSync(path.join(repo, "charts/web/charts/lib-0.1.0.tgz")).equals(bytes)).toBe(false);
        expect(fingerprint(repo)).toEqual(before);

        writeTree(repo, { "charts/lib/templates/extra.tpl": '{{- define "lib.extra" -}}x{{- end -}}\n' });
        pack(repo, new Date("2026-11-30T10:00:00Z"));
        fs.rmSync(path.join(repo, "charts/lib/templates/extra.tpl"));
        // Only the archive differs now: the library's own files are as before.
        expect(fingerprint(repo)["charts/web"]).not.toBe(before["charts/web"]);
        expect(fingerprint(repo)["charts/lib"]).toBe(before["charts/lib"]);
    });

    it("in a chart helm builds, an archive helm deletes changes nothing; a repository-less dependency's counts", () => {
        const repo = chartRepo(CHART + "  - name: vend\n    version: 1.0.0\n");
        writeTree(repo, { "charts/web/charts/vend-1.0.0.tgz": "not gzip" });
        const before = fingerprint(repo);
        // A dependency removed from Chart.yaml: helm deletes its archive on the next build.
        writeTree(repo, { "charts/web/charts/old-2.0.0.tgz": "left over" });
        expect(fingerprint(repo)).toEqual(before);
        writeTree(repo, { "charts/web/charts/vend-1.0.0.tgz": "not gzip either" });
        expect(fingerprint(repo)["charts/web"]).not.toBe(before["charts/web"]);
    });

    it("a file named .tgz that is no archive counts by its bytes", () => {
        const repo = chartRepo(VENDORED);
        writeTree(repo, { "charts/web/charts/odd.tgz": "not gzip" });
        const before = fingerprint(repo);
        writeTree(repo, { "charts/web/charts/odd.tgz": "not gzip either" });
        expect(fingerprint(repo)["charts/web"]).not.toBe(before["charts/web"]);
    });

    it("a regenerated Chart.lock whose dependencies did not change changes nothing; new versions do", () => {
        const repo = chartRepo();
        const before = fingerprint(repo);
        const lock = path.join(repo, "charts/web/Chart.lock");
        fs.writeFileSync(lock, LOCK.replace("2026-11-30T10:00:00Z", "2026-12-01T08:00:00Z"));
        expect(fingerprint(repo)).toEqual(before);
        fs.writeFileSync(lock, LOCK.replace("sha256:aaaa", "sha256:bbbb"));
        expect(fingerprint(repo)["charts/web"]).not.toBe(before["charts/web"]);
    });

    it("the library chart's own files stay inputs: an edit there is an edit", () => {
        const repo = chartRepo();
        const before = fingerprint(repo);
        writeTree(repo, { "charts/lib/templates/_helpers.tpl": '{{- define "lib.name" -}}x{{- end -}}\n' });
        expect(fingerprint(repo)["charts/lib"]).not.toBe(before["charts/lib"]);
    });
});
