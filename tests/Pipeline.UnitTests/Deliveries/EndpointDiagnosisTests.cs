using Pipeline.Consumers.Deliveries.Api;

namespace Pipeline.UnitTests.Deliveries;

public class EndpointDiagnosisTests
{
    [Fact]
    public void A_healthy_endpoint_has_no_issues() =>
        Assert.Empty(EndpointDiagnosis.Of(true, null, 405, null, 0, 10, 0.2).Issues);

    [Fact]
    public void Unreachable_disabled_failing_and_slow_endpoints_are_each_named_with_what_to_do()
    {
        var diagnosis = EndpointDiagnosis.Of(false, "The receiver answered 410 Gone.", null, "Connection refused", 8, 10, 6.5);

        Assert.Equal(4, diagnosis.Issues.Count);
        Assert.Contains("The endpoint is disabled: The receiver answered 410 Gone.", diagnosis.Issues);
        Assert.Contains("Cannot reach the endpoint: Connection refused", diagnosis.Issues);
        Assert.Contains("8 of the last 10 deliveries failed.", diagnosis.Issues);
        Assert.Contains("Average response time is high: 6.50 s.", diagnosis.Issues);
        Assert.Equal(4, diagnosis.Recommendations.Count);
    }

    [Fact]
    public void A_server_error_on_the_probe_is_an_issue_but_a_refused_head_is_not()
    {
        Assert.Single(EndpointDiagnosis.Of(true, null, 503, null, 0, 0, null).Issues);
        Assert.Empty(EndpointDiagnosis.Of(true, null, 405, null, 0, 0, null).Issues);
    }
}
