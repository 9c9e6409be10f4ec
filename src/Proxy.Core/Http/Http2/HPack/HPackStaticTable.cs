namespace Proxy.Http.Http2.HPack;

/// <summary>
/// The 61 predefined header fields of RFC 7541 Appendix A (indexes 1..61), with an allocation-free lookup used
/// by the encoder.
/// </summary>
public static class HPackStaticTable
{
    /// <summary>Number of entries; dynamic table indexes start right after (RFC 7541 2.3.3).</summary>
    public const int Count = 61;

    // Index 0 is unused so that array index = HPACK index.
    private static readonly HPackHeaderField[] s_entries =
    [
        new([], []),
        new(":authority"u8.ToArray(), ""u8.ToArray()), // 1
        new(":method"u8.ToArray(), "GET"u8.ToArray()), // 2
        new(":method"u8.ToArray(), "POST"u8.ToArray()), // 3
        new(":path"u8.ToArray(), "/"u8.ToArray()), // 4
        new(":path"u8.ToArray(), "/index.html"u8.ToArray()), // 5
        new(":scheme"u8.ToArray(), "http"u8.ToArray()), // 6
        new(":scheme"u8.ToArray(), "https"u8.ToArray()), // 7
        new(":status"u8.ToArray(), "200"u8.ToArray()), // 8
        new(":status"u8.ToArray(), "204"u8.ToArray()), // 9
        new(":status"u8.ToArray(), "206"u8.ToArray()), // 10
        new(":status"u8.ToArray(), "304"u8.ToArray()), // 11
        new(":status"u8.ToArray(), "400"u8.ToArray()), // 12
        new(":status"u8.ToArray(), "404"u8.ToArray()), // 13
        new(":status"u8.ToArray(), "500"u8.ToArray()), // 14
        new("accept-charset"u8.ToArray(), ""u8.ToArray()), // 15
        new("accept-encoding"u8.ToArray(), "gzip, deflate"u8.ToArray()), // 16
        new("accept-language"u8.ToArray(), ""u8.ToArray()), // 17
        new("accept-ranges"u8.ToArray(), ""u8.ToArray()), // 18
        new("accept"u8.ToArray(), ""u8.ToArray()), // 19
        new("access-control-allow-origin"u8.ToArray(), ""u8.ToArray()), // 20
        new("age"u8.ToArray(), ""u8.ToArray()), // 21
        new("allow"u8.ToArray(), ""u8.ToArray()), // 22
        new("authorization"u8.ToArray(), ""u8.ToArray()), // 23
        new("cache-control"u8.ToArray(), ""u8.ToArray()), // 24
        new("content-disposition"u8.ToArray(), ""u8.ToArray()), // 25
        new("content-encoding"u8.ToArray(), ""u8.ToArray()), // 26
        new("content-language"u8.ToArray(), ""u8.ToArray()), // 27
        new("content-length"u8.ToArray(), ""u8.ToArray()), // 28
        new("content-location"u8.ToArray(), ""u8.ToArray()), // 29
        new("content-range"u8.ToArray(), ""u8.ToArray()), // 30
        new("content-type"u8.ToArray(), ""u8.ToArray()), // 31
        new("cookie"u8.ToArray(), ""u8.ToArray()), // 32
        new("date"u8.ToArray(), ""u8.ToArray()), // 33
        new("etag"u8.ToArray(), ""u8.ToArray()), // 34
        new("expect"u8.ToArray(), ""u8.ToArray()), // 35
        new("expires"u8.ToArray(), ""u8.ToArray()), // 36
        new("from"u8.ToArray(), ""u8.ToArray()), // 37
        new("host"u8.ToArray(), ""u8.ToArray()), // 38
        new("if-match"u8.ToArray(), ""u8.ToArray()), // 39
        new("if-modified-since"u8.ToArray(), ""u8.ToArray()), // 40
        new("if-none-match"u8.ToArray(), ""u8.ToArray()), // 41
        new("if-range"u8.ToArray(), ""u8.ToArray()), // 42
        new("if-unmodified-since"u8.ToArray(), ""u8.ToArray()), // 43
        new("last-modified"u8.ToArray(), ""u8.ToArray()), // 44
        new("link"u8.ToArray(), ""u8.ToArray()), // 45
        new("location"u8.ToArray(), ""u8.ToArray()), // 46
        new("max-forwards"u8.ToArray(), ""u8.ToArray()), // 47
        new("proxy-authenticate"u8.ToArray(), ""u8.ToArray()), // 48
        new("proxy-authorization"u8.ToArray(), ""u8.ToArray()), // 49
        new("range"u8.ToArray(), ""u8.ToArray()), // 50
        new("referer"u8.ToArray(), ""u8.ToArray()), // 51
        new("refresh"u8.ToArray(), ""u8.ToArray()), // 52
        new("retry-after"u8.ToArray(), ""u8.ToArray()), // 53
        new("server"u8.ToArray(), ""u8.ToArray()), // 54
        new("set-cookie"u8.ToArray(), ""u8.ToArray()), // 55
        new("strict-transport-security"u8.ToArray(), ""u8.ToArray()), // 56
        new("transfer-encoding"u8.ToArray(), ""u8.ToArray()), // 57
        new("user-agent"u8.ToArray(), ""u8.ToArray()), // 58
        new("vary"u8.ToArray(), ""u8.ToArray()), // 59
        new("via"u8.ToArray(), ""u8.ToArray()), // 60
        new("www-authenticate"u8.ToArray(), ""u8.ToArray()), // 61
    ];

    // Entry indexes grouped by name length, so a lookup compares only names of the right length.
    private static readonly int[][] s_byNameLength = BuildByNameLength();

    /// <summary>Returns the entry at <paramref name="index"/> (1..61).</summary>
    public static ref readonly HPackHeaderField Get(int index) => ref s_entries[index];

    /// <summary>
    /// Finds <paramref name="name"/> in the table. Returns the index of an entry with the same name and value if
    /// one exists (<paramref name="valueMatched"/> true), else the lowest index with the same name, else 0.
    /// </summary>
    public static int Find(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, out bool valueMatched)
    {
        valueMatched = false;
        int[][] byLength = s_byNameLength;
        if ((uint)name.Length >= (uint)byLength.Length)
        {
            return 0;
        }

        int nameIndex = 0;
        foreach (int index in byLength[name.Length])
        {
            ref readonly HPackHeaderField entry = ref s_entries[index];
            if (!name.SequenceEqual(entry.Name))
            {
                continue;
            }

            if (value.SequenceEqual(entry.Value))
            {
                valueMatched = true;
                return index;
            }

            if (nameIndex == 0)
            {
                nameIndex = index;
            }
        }

        return nameIndex;
    }

    private static int[][] BuildByNameLength()
    {
        int maxLength = 0;
        for (int i = 1; i <= Count; i++)
        {
            maxLength = Math.Max(maxLength, s_entries[i].Name.Length);
        }

        var counts = new int[maxLength + 1];
        for (int i = 1; i <= Count; i++)
        {
            counts[s_entries[i].Name.Length]++;
        }

        var result = new int[maxLength + 1][];
        for (int length = 0; length <= maxLength; length++)
        {
            result[length] = new int[counts[length]];
            counts[length] = 0;
        }

        for (int i = 1; i <= Count; i++)
        {
            int length = s_entries[i].Name.Length;
            result[length][counts[length]++] = i;
        }

        return result;
    }
}
