using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Pipeline.Persistence.Migrations.PostgreSql.Credits
{
    /// <inheritdoc />
    public partial class OutboxSentIndex : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_credits_outbox_SentAt_CreatedAt",
                table: "credits_outbox");

            migrationBuilder.CreateIndex(
                name: "IX_credits_outbox_Sent",
                table: "credits_outbox",
                column: "SentAt",
                filter: "\"SentAt\" IS NOT NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_credits_outbox_Sent",
                table: "credits_outbox");

            migrationBuilder.CreateIndex(
                name: "IX_credits_outbox_SentAt_CreatedAt",
                table: "credits_outbox",
                columns: new[] { "SentAt", "CreatedAt" });
        }
    }
}
