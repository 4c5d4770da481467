/** Pulumi hands structured config values over as JSON text; scalars stay strings. */
export function decodeConfigValue(text: string): unknown {
    const trimmed = text.trimStart();
    if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
        try {
            return JSON.parse(text);
        } catch {
            return text;
        }
    }
    return text;
}
