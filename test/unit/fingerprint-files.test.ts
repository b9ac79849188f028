// What counts as an input file: symlinks followed, Pulumi project files and synth's
// output left out, bad links reported by name.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { fingerprintRepository, FingerprintGroup, SYNTH_OUTPUT_MARKER } from "../../sdk/fingerprint";
import { resolveInfrastructure } from "../../sdk/infrastructure";
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
