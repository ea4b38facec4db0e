using System.Net;
using Scheduler.IntegrationTests.Admin;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Audit;

/// <summary>variable.* and calendar.*: one entry per change, in its transaction, never a variable's value.</summary>
public sealed class VariableAndCalendarAuditTests(ServerFixture server) : ServerTest(server)
{
    [Fact]
    public async Task VariableActions_AreAudited_WithoutTheirValues()
    {
        await Admin.PutJsonAsync("variables/audited_token", """{"value":"hunter2-top-secret","secret":true}""").ExpectAsync(HttpStatusCode.Created);
        await Admin.PutJsonAsync("variables/audited_token", """{"value":"hunter3-top-secret","secret":true,"description":"d"}""").ExpectAsync(HttpStatusCode.OK);
        await Admin.DeleteAsync("variables/audited_token").ExpectAsync(HttpStatusCode.NoContent);
        // Deleting what is not there changes nothing and leaves no entry.
        await Admin.DeleteAsync("variables/audited_token").ExpectProblemAsync(HttpStatusCode.NotFound);

        var entries = await Admin.AuditAsync("target=variable/audited_token");
        Assert.Equal(["variable.create", "variable.update", "variable.delete"], entries.Select(e => e.GetProperty("action").GetString()));
        Assert.All(entries, e => e.AssertByBootstrapKey());
        Assert.True(entries[0].GetProperty("details").GetProperty("secret").GetBoolean());
        Assert.All(entries, e => Assert.DoesNotContain("top-secret", e.GetRawText()));
    }

    [Fact]
    public async Task CalendarActions_AreAudited()
    {
        await Admin.PutJsonAsync("calendars/audited_cal", """{"timezone":"Europe/Berlin","exclude_dates":["2027-01-01"],"holidays":"DE"}""").ExpectAsync(HttpStatusCode.Created);
        await Admin.PutJsonAsync("calendars/audited_cal", """{"timezone":"UTC","exclude_dates":[]}""").ExpectAsync(HttpStatusCode.OK);
        await Admin.DeleteAsync("calendars/audited_cal").ExpectAsync(HttpStatusCode.NoContent);

        var entries = await Admin.AuditAsync("target=calendar/audited_cal");
        Assert.Equal(["calendar.create", "calendar.update", "calendar.delete"], entries.Select(e => e.GetProperty("action").GetString()));
        var created = entries[0].GetProperty("details");
        Assert.Equal("DE", created.GetProperty("holidays").GetString());
        Assert.Equal(1, created.GetProperty("exclude_dates").GetInt32());
        Assert.Equal("UTC", entries[1].GetProperty("details").GetProperty("timezone").GetString());
    }
}
