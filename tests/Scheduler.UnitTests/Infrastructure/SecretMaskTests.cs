using Scheduler.Infrastructure.Text;

namespace Scheduler.UnitTests.Infrastructure;

public sealed class SecretMaskTests
{
    [Theory]
    [InlineData("GET https://alice:s3cret@example.com/data", "GET https://***:***@example.com/data")]
    [InlineData("POST https://ghp_abcdef@github.example/repo.git", "POST https://***@github.example/repo.git")]
    [InlineData("postgres://app:pw@db:5432/x and http://u:p@h/", "postgres://***:***@db:5432/x and http://***:***@h/")]
    [InlineData("https://h/x?token=abc&page=2", "https://h/x?token=***&page=2")]
    [InlineData("https://h/x?page=2&api_key=abc#top", "https://h/x?page=2&api_key=***#top")]
    [InlineData("https://h/x?access_token=a&Password=b&client_secret=c&sig=d&X-Amz-Security-Token=e", "https://h/x?access_token=***&Password=***&client_secret=***&sig=***&X-Amz-Security-Token=***")]
    [InlineData("https://h/x?apikey=a&api-key=b&key=c&signature=d&secret=e", "https://h/x?apikey=***&api-key=***&key=***&signature=***&secret=***")]
    [InlineData("Host=db;Username=app;Password=hunter2;Database=x", "Host=db;Username=app;Password=***;Database=x")]
    [InlineData("error at https://u:p@h:8443/a?b=1&token=t answered 500", "error at https://***:***@h:8443/a?b=1&token=*** answered 500")]
    public void Mask_HidesCredentials_WhenUrisOrParametersCarryThem(string text, string expected) =>
        Assert.Equal(expected, SecretMask.Mask(text));

    [Theory]
    [InlineData("GET https://example.com/data?page=2&sort=name")]
    [InlineData("mail to ops@example.com failed")]
    [InlineData("x = 1; y=2")]
    [InlineData("https://h/x?token=")]
    [InlineData("")]
    public void Mask_KeepsText_WhenItHoldsNoCredential(string text) =>
        Assert.Equal(text, SecretMask.Mask(text));

    [Fact]
    public void Mask_ReturnsTheSameInstance_WhenThereIsNothingToMask()
    {
        var text = "GET https://example.com/a/b 200 in 12 ms";
        Assert.Same(text, SecretMask.Mask(text));
    }

    [Theory]
    [InlineData("token", true)]
    [InlineData("refresh_token", true)]
    [InlineData("DB-PASSWORD", true)]
    [InlineData("sessionid", true)]
    [InlineData("page", false)]
    [InlineData("keyword", false)]
    [InlineData("monkey", false)]
    public void IsSecretName_TellsSecretParameterNames(string name, bool secret) =>
        Assert.Equal(secret, SecretMask.IsSecretName(name));
}
