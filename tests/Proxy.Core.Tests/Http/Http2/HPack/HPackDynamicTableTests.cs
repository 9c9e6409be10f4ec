using System.Text;
using Proxy.Http.Http2.HPack;

namespace Proxy.Tests.Http.Http2.HPack;

public class HPackDynamicTableTests
{
    [Fact]
    public void Insert_AccountsSizeAsNamePlusValuePlus32()
    {
        var table = new HPackDynamicTable(4096);
        table.Insert("custom-key"u8, "custom-header"u8);
        Assert.Equal(55, table.Size);
        Assert.Equal(1, table.Count);
    }

    [Fact]
    public void Insert_EntryLargerThanMax_EmptiesTable()
    {
        var table = new HPackDynamicTable(64);
        table.Insert("a"u8, "b"u8);
        table.Insert("name"u8, new byte[40]);
        Assert.Equal(0, table.Count);
        Assert.Equal(0, table.Size);
    }

    [Fact]
    public void Insert_ManyRandomEntries_MatchesReferenceModel()
    {
        // A plain list is the model; the ring buffer must agree through thousands of wraps and evictions.
        var random = new Random(41);
        var table = new HPackDynamicTable(300);
        var model = new List<(string Name, string Value)>();
        for (int step = 0; step < 5000; step++)
        {
            if (random.Next(50) == 0)
            {
                int size = random.Next(0, 301);
                table.SetMaxSize(size);
                Evict(model, size);
            }
            else
            {
                string name = new('n', random.Next(1, 30));
                string value = random.Next(0, 100000).ToString() + new string('v', random.Next(0, 120));
                table.Insert(Encoding.ASCII.GetBytes(name), Encoding.ASCII.GetBytes(value));
                if (name.Length + value.Length + 32 > table.MaxSize)
                {
                    model.Clear();
                }
                else
                {
                    model.Insert(0, (name, value));
                    Evict(model, table.MaxSize);
                }
            }

            Assert.Equal(model.Count, table.Count);
            Assert.Equal(SizeOf(model), table.Size);
            for (int i = 0; i < model.Count; i++)
            {
                Assert.Equal(model[i].Name, Encoding.ASCII.GetString(table.GetName(i)));
                Assert.Equal(model[i].Value, Encoding.ASCII.GetString(table.GetValue(i)));
            }
        }
    }

    [Fact]
    public void SetMaxSize_AboveCapacity_GrowsAndKeepsEntries()
    {
        var table = new HPackDynamicTable(100);
        table.Insert("a"u8, "1"u8);
        table.Insert("b"u8, "2"u8);
        table.SetMaxSize(1000);
        Assert.Equal(2, table.Count);
        Assert.Equal("b"u8.ToArray(), table.GetName(0).ToArray());
        Assert.Equal("1"u8.ToArray(), table.GetValue(1).ToArray());
        table.Insert("c"u8, new byte[500]);
        Assert.Equal(3, table.Count);
    }

    [Fact]
    public void Find_ReturnsFullMatchOrNewestNameMatch()
    {
        var table = new HPackDynamicTable(4096);
        table.Insert("x"u8, "1"u8);
        table.Insert("x"u8, "2"u8);
        table.Insert("y"u8, "3"u8);
        Assert.Equal(2, table.Find("x"u8, "1"u8, out bool full));
        Assert.True(full);
        Assert.Equal(1, table.Find("x"u8, "9"u8, out full));
        Assert.False(full);
        Assert.Equal(-1, table.Find("z"u8, "1"u8, out _));
    }

    private static void Evict(List<(string Name, string Value)> model, int maxSize)
    {
        while (SizeOf(model) > maxSize)
        {
            model.RemoveAt(model.Count - 1);
        }
    }

    private static int SizeOf(List<(string Name, string Value)> model)
    {
        int size = 0;
        foreach (var (name, value) in model)
        {
            size += name.Length + value.Length + 32;
        }

        return size;
    }
}
