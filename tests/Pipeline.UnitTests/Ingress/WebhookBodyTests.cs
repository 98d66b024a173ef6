using Microsoft.AspNetCore.Http;
using Pipeline.Ingress.Webhooks;

namespace Pipeline.UnitTests.Ingress;

public class WebhookBodyTests
{
    private const int Limit = 1024;

    [Theory]
    [InlineData("application/json")]
    [InlineData("application/json; charset=utf-8")]
    [InlineData("Application/JSON")]
    [InlineData("application/webhook+json")]
    [InlineData("application/cloudevents+json; charset=utf-8")]
    [InlineData(null)]
    [InlineData("")]
    public void IsJson_accepts_json_and_a_missing_content_type(string? contentType) =>
        Assert.True(WebhookBody.IsJson(contentType));

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("multipart/form-data; boundary=x")]
    [InlineData("text/json+xml")]
    [InlineData("text/plain+json")]
    [InlineData("application/jsonp")]
    [InlineData("garbage")]
    [InlineData("application/")]
    [InlineData(";;;")]
    public void IsJson_refuses_everything_else(string contentType) =>
        Assert.False(WebhookBody.IsJson(contentType));

    private static byte[] Body(int length)
    {
        var body = new byte[length];
        for (var i = 0; i < length; i++)
        {
            body[i] = (byte)(i * 31 + 7);
        }

        return body;
    }

    private static HttpRequest Request(Stream body, long? contentLength = null)
    {
        var context = new DefaultHttpContext();
        context.Request.Body = body;
        context.Request.ContentLength = contentLength;
        return context.Request;
    }

    [Fact]
    public async Task A_body_of_exactly_the_limit_is_returned_byte_for_byte()
    {
        var body = Body(Limit);

        var read = await WebhookBody.ReadAsync(Request(new MemoryStream(body), body.Length), Limit, CancellationToken.None);

        Assert.NotNull(read);
        Assert.Equal(body, read);
    }

    [Fact]
    public async Task A_body_of_exactly_the_limit_without_Content_Length_is_returned()
    {
        var body = Body(Limit);

        var read = await WebhookBody.ReadAsync(Request(new MemoryStream(body)), Limit, CancellationToken.None);

        Assert.Equal(body, read);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_body_one_byte_over_the_limit_is_refused(bool sendContentLength)
    {
        var body = Body(Limit + 1);

        var read = await WebhookBody.ReadAsync(
            Request(new MemoryStream(body), sendContentLength ? body.Length : null), Limit, CancellationToken.None);

        Assert.Null(read);
    }

    [Fact]
    public async Task A_body_larger_than_the_limit_is_refused_even_when_Content_Length_understates_it()
    {
        var body = Body(Limit * 3);

        var read = await WebhookBody.ReadAsync(Request(new MemoryStream(body), 10), Limit, CancellationToken.None);

        Assert.Null(read);
    }

    [Fact]
    public async Task A_Content_Length_over_the_limit_is_refused_without_reading_the_body()
    {
        var body = new UnreadableStream();

        var read = await WebhookBody.ReadAsync(Request(body, Limit + 1), Limit, CancellationToken.None);

        Assert.Null(read);
        Assert.Equal(0, body.Reads);
    }

    [Fact]
    public async Task An_empty_body_is_an_empty_array()
    {
        var read = await WebhookBody.ReadAsync(Request(new MemoryStream(), 0), Limit, CancellationToken.None);

        Assert.NotNull(read);
        Assert.Empty(read);
    }

    [Fact]
    public async Task A_body_delivered_in_small_chunks_is_reassembled()
    {
        var body = Body(Limit);
        var stream = new ChunkedStream(body, chunkSize: 7);

        var read = await WebhookBody.ReadAsync(Request(stream), Limit, CancellationToken.None);

        Assert.Equal(body, read);
        Assert.True(stream.Reads > Limit / 7, $"expected many small reads, saw {stream.Reads}");
    }

    [Fact]
    public async Task A_body_delivered_in_small_chunks_is_refused_once_it_passes_the_limit()
    {
        var stream = new ChunkedStream(Body(Limit * 4), chunkSize: 7);

        var read = await WebhookBody.ReadAsync(Request(stream), Limit, CancellationToken.None);

        Assert.Null(read);
        // Refused as soon as the limit was passed, not after reading everything.
        Assert.True(stream.Position <= Limit + 7 * 2, $"read {stream.Position} bytes before refusing");
    }

    /// <summary>Hands out at most <c>chunkSize</c> bytes per read, like a slow network.</summary>
    private sealed class ChunkedStream(byte[] data, int chunkSize) : Stream
    {
        private int _position;

        public int Reads { get; private set; }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => _position;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            Reads++;
            var n = Math.Min(Math.Min(chunkSize, buffer.Length), data.Length - _position);
            data.AsSpan(_position, n).CopyTo(buffer);
            _position += n;
            return n;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            Task.FromResult(Read(buffer.AsSpan(offset, count)));

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(Read(buffer.Span));

        public override void Flush() => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>Fails the test if anything reads from it.</summary>
    private sealed class UnreadableStream : Stream
    {
        public int Reads { get; private set; }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Fail();
        public override int Read(Span<byte> buffer) => Fail();

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            Task.FromResult(Fail());

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(Fail());

        private int Fail()
        {
            Reads++;
            throw new InvalidOperationException("The body was read although Content-Length was already over the limit.");
        }

        public override void Flush() => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
