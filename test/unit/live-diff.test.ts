// helmfile diff's output, as recorded from helmfile v1.8.0 and helm-diff v3.9.14 against a
// loopback cluster (test/fixtures/helmfile-diff), read release by release.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { formatReleaseChanges, parseHelmfileDiff } from "../../sdk/live-diff";

const recorded = (name: string) =>
    fs.readFileSync(path.resolve(__dirname, "../fixtures/helmfile-diff", `${name}.txt`), "utf8");

describe("parseHelmfileDiff", () => {
    it("reads nothing to change as no release", () => {
        expect(parseHelmfileDiff(recorded("none"))).toEqual([]);
    });

    it("names every release of a first install as new, with its objects added", () => {
        const changes = parseHelmfileDiff(recorded("new"));
        expect(changes).toHaveLength(22);
        expect(changes.every(c => c.change === "new" && c.namespace === "shop" && c.changed === 0)).toBe(true);
        expect(changes.find(c => c.release === "web")).toMatchObject({ added: 1 });
    });

    it("names the edited releases and the one whose object was deleted by hand, and only them", () => {
        expect(parseHelmfileDiff(recorded("changed"))).toEqual([
            { release: "web", namespace: "shop", change: "upgraded", added: 1, changed: 0, removed: 0 },
            { release: "fleet-7", namespace: "shop", change: "upgraded", added: 0, changed: 1, removed: 0 },
            { release: "app", namespace: "shop", change: "upgraded", added: 0, changed: 1, removed: 0 },
        ]);
    });

    it("counts removals, and a release with only removals as removed", () => {
        const output = [
            "Comparing release=old, chart=charts/old, namespace=shop",
            "shop, old, ConfigMap (v1) has been removed:",
            "- apiVersion: v1",
            "shop, old-svc, Service (v1) has been removed:",
        ].join("\n");
        expect(parseHelmfileDiff(output)).toEqual([
            { release: "old", namespace: "shop", change: "removed", added: 0, changed: 0, removed: 2 },
        ]);
    });

    it("prints one aligned line per release, values never", () => {
        const lines = formatReleaseChanges(parseHelmfileDiff(recorded("changed")));
        expect(lines).toEqual([
            "~ web      upgraded: 1 added",
            "~ fleet-7  upgraded: 1 changed",
            "~ app      upgraded: 1 changed",
        ]);
        expect(lines.join("\n")).not.toContain("7-two");
    });
});
