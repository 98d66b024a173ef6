using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Pipeline.Persistence.Migrations.SqlServer.Ingress
{
    /// <inheritdoc />
    public partial class OutboxSentIndex : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_ingress_outbox_SentAt_CreatedAt",
                table: "ingress_outbox");

            migrationBuilder.CreateIndex(
                name: "IX_ingress_outbox_Sent",
                table: "ingress_outbox",
                column: "SentAt",
                filter: "\"SentAt\" IS NOT NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_ingress_outbox_Sent",
                table: "ingress_outbox");

            migrationBuilder.CreateIndex(
                name: "IX_ingress_outbox_SentAt_CreatedAt",
                table: "ingress_outbox",
                columns: new[] { "SentAt", "CreatedAt" });
        }
    }
}
