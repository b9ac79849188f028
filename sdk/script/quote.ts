/**
 * Quotes one word for a POSIX shell. Safe words stay bare so generated scripts read
 * like hand-written ones; anything else is single-quoted, which stops every expansion
 * (`$(...)`, backticks, globs, spaces).
 */
export function shQuote(word: string): string {
    if (word !== "" && /^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) {
        return word;
    }
    return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Quotes every word of a command line and joins them with spaces. */
export function shJoin(words: readonly string[]): string {
    return words.map(shQuote).join(" ");
}
