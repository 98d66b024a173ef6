using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Pipeline.Persistence.Migrations.PostgreSql.Credits
{
    /// <inheritdoc />
    public partial class RetentionIndexes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "IX_credits_webhook_logs_ProcessedAt",
                table: "credits_webhook_logs",
                column: "ProcessedAt");

            migrationBuilder.CreateIndex(
                name: "IX_credits_inbox_ProcessedAt",
                table: "credits_inbox",
                column: "ProcessedAt");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_credits_webhook_logs_ProcessedAt",
                table: "credits_webhook_logs");

            migrationBuilder.DropIndex(
                name: "IX_credits_inbox_ProcessedAt",
                table: "credits_inbox");
        }
    }
}
