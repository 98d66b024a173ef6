using System.Collections.Frozen;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Pipeline.Hosting;

/// <summary>
/// Answers 501 to a request method that HTTP does not define, before the HTTP metrics see it: their series are labelled
/// with the method, so made-up methods would add series (and memory) without end. 501 is RFC 9110's answer to a method
/// the server does not recognise; the defined ones go on and get 404 or 405 from routing as before.
/// </summary>
public static class UnknownMethods
{
    // RFC 9110 methods plus PATCH, spelt exactly (methods are case-sensitive): a bounded set of label values.
    private static readonly FrozenSet<string> Known = FrozenSet.Create(StringComparer.Ordinal,
        HttpMethods.Get, HttpMethods.Head, HttpMethods.Post, HttpMethods.Put, HttpMethods.Delete, HttpMethods.Patch,
        HttpMethods.Options, HttpMethods.Trace, HttpMethods.Connect);

    public static IApplicationBuilder UseUnknownMethodRefusal(this IApplicationBuilder app) =>
        app.Use((context, next) =>
        {
            if (Known.Contains(context.Request.Method))
            {
                return next(context);
            }

            context.Response.StatusCode = StatusCodes.Status501NotImplemented;
            return Task.CompletedTask;
        });
}
